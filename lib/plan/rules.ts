/**
 * Rule planning: subscriptions of one service grouped by (event, identical filter), at most
 * MAX_TARGETS_PER_RULE targets per rule.
 */
import { EVENTBRIDGE } from '../../common/aws-limits.ts';
import { kebabCase } from '../../common/case.ts';
import { inputTemplateFor } from '../../common/contracts.ts';
import { fitName, splitRpcId } from '../../common/naming.ts';
import type { RuleDraft } from '../config/rule-groups.ts';
import { type NameContext, names } from '../naming.ts';
import { rulePatternFor } from '../patterns/rule-pattern.ts';
import type { RpcDraft } from './rpcs.ts';
import type { RulePlan, RuleTargetPlan } from './types.ts';

/** EventBridge allows at most 5 targets per rule. */
export const MAX_TARGETS_PER_RULE = EVENTBRIDGE.targetsPerRule;

/** Target id of an RPC within a rule of its service: the kebab-cased method (unique within a service). */
export function targetIdFor(rpcId: string): string {
  return fitName(kebabCase(splitRpcId(rpcId).method), 64);
}

/**
 * Names and completes rule drafts. `counters` numbers rules per (event, service) across all shards of
 * the service, so names stay unique; pass the same map for every shard of a service.
 */
export function finishRules(
  drafts: readonly RuleDraft[],
  rpcs: ReadonlyMap<string, RpcDraft>,
  ctx: NameContext,
  stackName: string,
  counters: Map<string, number>,
  sourcesByEvent: ReadonlyMap<string, readonly string[]>,
): RulePlan[] {
  return drafts.map((draft) => {
    const counterKey = `${draft.eventName}\n${draft.service}`;
    const index = (counters.get(counterKey) ?? 0) + 1;
    counters.set(counterKey, index);
    const targets: RuleTargetPlan[] = draft.rpcs.map((rpcId) => {
      const rpc = rpcs.get(rpcId);
      if (!rpc)
        throw new Error(`Rule for "${draft.eventName}" targets RPC "${rpcId}", which was not planned.`);
      return {
        id: targetIdFor(rpcId),
        rpc: rpcId,
        inputTemplate: inputTemplateFor(rpcId),
        queueName: rpc.queueName,
        dlqName: rpc.dlqName,
      };
    });
    const sources = sourcesByEvent.get(draft.eventName) ?? [];
    return {
      name: names.ruleName(ctx, draft.eventName, draft.service, index),
      eventName: draft.eventName,
      service: draft.service,
      ...(draft.filter === undefined ? {} : { filter: draft.filter }),
      sources,
      pattern: rulePatternFor(draft.eventName, sources, draft.filter),
      targets,
      stackName,
    };
  });
}
