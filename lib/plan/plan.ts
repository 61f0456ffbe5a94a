/**
 * The planner: RouterSpec -> Plan. Pure: same spec, same plan; no CDK, no I/O.
 */
import { EVENTBRIDGE } from '../../common/aws-limits.ts';
import { DEAD_INDEX } from '../../common/contracts.ts';
import { publisherSource, splitRpcId } from '../../common/naming.ts';
import { groupRules } from '../config/rule-groups.ts';
import type { RouterSpec } from '../config/types.ts';
import { type NameContext, names, prefix } from '../naming.ts';
import { planAlarms } from './alarms.ts';
import {
  CLOUDFORMATION_STACK_RESOURCE_LIMIT,
  DEFAULT_STACK_RESOURCE_BUDGET,
  estimateServiceStack,
} from './estimate.ts';
import { planPublishApi } from './publish-api.ts';
import { DEFAULT_REMOTE_ENTRY, planRpc, type RpcDraft, rpcPlanningContext } from './rpcs.ts';
import { finishRules } from './rules.ts';
import { shardService } from './shards.ts';
import type {
  Plan,
  PlanOptions,
  PlanWarning,
  PublisherPlan,
  RpcPlan,
  RulePlan,
  ServiceStackPlan,
} from './types.ts';

/** EventBridge's default quota of rules per bus. */
export const DEFAULT_BUS_RULE_QUOTA = EVENTBRIDGE.rulesPerBus;

/** The external publishers of `spec`: source, events, identity and managed policy name of each. */
export function planPublishers(spec: RouterSpec): PublisherPlan[] {
  const ctx: NameContext = { app: spec.app.name, stage: spec.app.stage };
  return spec.publishers.map((publisher) => ({
    name: publisher.name,
    source: publisherSource(ctx.app, publisher.name),
    events: [...publisher.events],
    ...(publisher.identity ? { identity: publisher.identity } : {}),
    ...(publisher.putsOnBus ? { policyName: names.publisherPolicyName(ctx, publisher.name) } : {}),
  }));
}

/** Plans the whole router. The spec is expected to be valid (loaded without errors). */
export function planRouter(spec: RouterSpec, options: PlanOptions = {}): Plan {
  const budget = options.stackResourceBudget ?? DEFAULT_STACK_RESOURCE_BUDGET;
  const quota = options.busRuleQuota ?? spec.app.quotas?.rulesPerBus ?? DEFAULT_BUS_RULE_QUOTA;
  const remoteEntry = options.remoteEntry ?? DEFAULT_REMOTE_ENTRY;
  const ctx: NameContext = { app: spec.app.name, stage: spec.app.stage };
  const warnings: PlanWarning[] = [];

  const planning = rpcPlanningContext(spec, ctx, remoteEntry);
  const drafts = new Map<string, RpcDraft>();
  for (const service of spec.services) {
    for (const rpc of service.rpcs) drafts.set(rpc.id, planRpc(rpc, planning));
  }

  const sourcesByEvent = new Map(
    spec.events.map((event) => [event.name, event.publishers.map((name) => publisherSource(ctx.app, name))]),
  );
  const publishers = planPublishers(spec);

  const stacks: ServiceStackPlan[] = [];
  for (const service of spec.services) {
    const subscriptions = spec.subscriptions.filter(
      (sub) => drafts.has(sub.rpc) && splitRpcId(sub.rpc).service === service.name,
    );
    const rpcIds = service.rpcs.map((rpc) => rpc.id);
    const counters = new Map<string, number>();
    shardService(subscriptions, service.name, rpcIds, budget).forEach((shardRpcIds, shard) => {
      const stackName = names.serviceStackName(ctx, service.name, shard);
      const rpcs: RpcPlan[] = shardRpcIds.map((id) => ({ ...(drafts.get(id) as RpcDraft), stackName }));
      const ruleDrafts = groupRules(subscriptions, service.name, new Set(shardRpcIds));
      const rules = finishRules(ruleDrafts, drafts, ctx, stackName, counters, sourcesByEvent).map((rule) => ({
        ...rule,
        failedInvocationsAlarmName: names.ruleAlarmName(rule.name),
      }));
      const estimatedResources = estimateServiceStack(shardRpcIds.length, ruleDrafts.length);
      if (estimatedResources > CLOUDFORMATION_STACK_RESOURCE_LIMIT) {
        warnings.push({
          code: 'stack-too-large',
          message: `Stack ${stackName} needs about ${estimatedResources} resources, over CloudFormation's limit of ${CLOUDFORMATION_STACK_RESOURCE_LIMIT}: RPC ${shardRpcIds[0]} alone has too many subscriptions.`,
          hint: 'Subscribe the RPC to fewer events, or split it into several RPCs.',
        });
      }
      stacks.push({
        stackName,
        service: service.name,
        shard,
        rpcs,
        rules,
        estimatedResources,
        dlqOperatorPolicyName: names.dlqOperatorPolicyName(ctx, service.name, shard),
        dlqViewerPolicyName: names.dlqViewerPolicyName(ctx, service.name, shard),
      });
    });
  }

  const rules: RulePlan[] = stacks.flatMap((stack) => stack.rules);
  if (rules.length > quota) {
    warnings.push({
      code: 'bus-rule-quota',
      message: `The bus would hold ${rules.length} rules, over EventBridge's default quota of ${quota} rules per bus; deployment fails unless the quota is raised.`,
      hint: 'Request a higher "Rules per event bus" quota in Service Quotas before deploying, or share filters between subscriptions so fewer rules are needed.',
    });
  }

  return {
    names: ctx,
    core: {
      stackName: names.coreStackName(ctx),
      busName: names.busName(ctx),
      archiveName: names.archiveName(ctx),
      archiveRetentionDays: spec.app.archiveRetentionDays,
      deliveriesTableName: names.deliveriesTableName(ctx),
      deadIndexName: DEAD_INDEX.name,
      alarmTopicName: names.alarmTopicName(ctx),
      alarmNamePrefix: `${prefix(ctx)}-`,
    },
    dedupRetentionSeconds: spec.app.dedupRetentionSeconds,
    alarms: planAlarms(spec.app),
    stacks,
    rpcs: stacks.flatMap((stack) => stack.rpcs),
    rules,
    publishers,
    publishApi: planPublishApi(spec, publishers),
    opsRecordsPolicyName: names.opsRecordsPolicyName(ctx),
    replayNamePrefix: names.replayNamePrefix(ctx),
    warnings,
  };
}
