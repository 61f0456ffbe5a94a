/**
 * One EventBridge rule: an event (with one content filter) delivered to the queues of up to 5 RPCs.
 */

import { type Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { EVENTBRIDGE, NAME_LIMITS } from '../../common/aws-limits.ts';
import { MAX_PATTERN_LENGTH } from '../patterns/rule-pattern.ts';
import { MAX_TARGETS_PER_RULE } from '../plan/rules.ts';
import type { RulePlan } from '../plan/types.ts';
import type { RpcWorker } from './rpc-worker.ts';
import { checkRange, failOnProblems } from './validation.ts';

/** EventBridge's limit on an input transformer's template. */
export const MAX_INPUT_TEMPLATE_LENGTH = EVENTBRIDGE.inputTemplateChars;

/**
 * The rule's Description: the event and its target RPCs, held to EventBridge's 512 characters
 * (CloudFormation rejects longer ones); RPCs that do not fit are counted instead of listed.
 */
export function ruleDescription(eventName: string, rpcs: readonly string[]): string {
  const max = NAME_LIMITS.ruleDescription;
  const full = `${eventName} -> ${rpcs.join(', ')}`;
  if (full.length <= max) return full;
  for (let shown = rpcs.length - 1; shown >= 0; shown--) {
    const more = ` (+${rpcs.length - shown} more)`;
    const text = `${eventName} -> ${rpcs.slice(0, shown).join(', ')}${more}`;
    if (text.length <= max) return text;
  }
  return `${eventName.slice(0, max - 20)}... (${rpcs.length} RPCs)`;
}

export interface SubscriptionRuleProps {
  /** The rule as planned: name, pattern and targets. */
  readonly rule: RulePlan;
  /** The bus the rule listens on. */
  readonly bus: events.IEventBus;
  /** The workers of the target RPCs, by RPC id; each must be in the rule's stack. */
  readonly workers: ReadonlyMap<string, RpcWorker>;
  /**
   * How long EventBridge keeps retrying a delivery to a queue before it sends the event to the RPC's DLQ.
   * @default Duration.hours(24)
   */
  readonly maxEventAge?: Duration;
  /**
   * How many times EventBridge retries a delivery to a queue, 0..185.
   * @default 185
   */
  readonly retryAttempts?: number;
}

/**
 * A rule whose every target is an RPC queue with:
 * - an input transformer that wraps the event as `{"rpc": "<Service/Method>", "event": <the event>}`;
 * - the RPC's DLQ as dead-letter target and an explicit retry policy (so no event is dropped silently);
 * - no role (EventBridge sends to SQS under the queue's resource policy, which names this rule).
 * The workers' queue policies are granted here through `RpcWorker.allowRules` by the owning stack.
 */
export class SubscriptionRule extends Construct {
  readonly rule: events.CfnRule;
  /** ARN of the rule (for `aws:SourceArn` conditions). */
  readonly ruleArn: string;

  constructor(scope: Construct, id: string, props: SubscriptionRuleProps) {
    super(scope, id);
    const { rule } = props;
    const maxEventAgeSeconds = props.maxEventAge?.toSeconds() ?? 24 * 3600;
    const retryAttempts = props.retryAttempts ?? 185;
    failOnProblems(scope, `SubscriptionRule ${id} (${rule.name})`, [
      ...validateRule(rule, props.workers),
      ...validateRetry(maxEventAgeSeconds, retryAttempts),
    ]);

    this.rule = new events.CfnRule(this, 'Rule', {
      name: rule.name,
      description: ruleDescription(
        rule.eventName,
        rule.targets.map((target) => target.rpc),
      ),
      eventBusName: props.bus.eventBusName,
      eventPattern: rule.pattern,
      state: 'ENABLED',
      targets: rule.targets.map((target) => {
        const worker = props.workers.get(target.rpc) as RpcWorker;
        return {
          id: target.id,
          arn: worker.queue.queueArn,
          inputTransformer: { inputTemplate: target.inputTemplate },
          deadLetterConfig: { arn: worker.deadLetterQueue.queueArn },
          retryPolicy: { maximumEventAgeInSeconds: maxEventAgeSeconds, maximumRetryAttempts: retryAttempts },
        };
      }),
    });
    this.ruleArn = this.rule.attrArn;

    // Deferred: a target in another stack would need an export, which the router never uses.
    this.node.addValidation({
      validate: () =>
        rule.targets
          .map((target) => props.workers.get(target.rpc))
          .filter(
            (worker): worker is RpcWorker => worker !== undefined && Stack.of(worker) !== Stack.of(this),
          )
          .map(
            (worker) =>
              `Rule ${rule.name} targets ${worker.rpc.id}, whose queue is in stack ${Stack.of(worker).stackName}; a rule must live in the stack of the queues it targets.`,
          ),
    });
  }
}

function validateRule(rule: RulePlan, workers: ReadonlyMap<string, RpcWorker>): string[] {
  const problems: string[] = [];
  if (rule.targets.length === 0 || rule.targets.length > MAX_TARGETS_PER_RULE) {
    problems.push(
      `rule.targets has ${rule.targets.length} targets; EventBridge allows 1 to ${MAX_TARGETS_PER_RULE} per rule. Plan rules with planRouter(), which splits them.`,
    );
  }
  const patternLength = JSON.stringify(rule.pattern).length;
  if (patternLength > MAX_PATTERN_LENGTH) {
    problems.push(
      `rule.pattern is ${patternLength} characters long; EventBridge allows ${MAX_PATTERN_LENGTH}. Shorten the subscription's filter.`,
    );
  }
  const ids = new Set<string>();
  for (const target of rule.targets) {
    if (!workers.has(target.rpc)) {
      problems.push(
        `target ${target.rpc} has no worker in workers; create its RpcWorker in the same stack first.`,
      );
    }
    if (ids.has(target.id))
      problems.push(`target id "${target.id}" appears twice; target ids must be unique in a rule.`);
    ids.add(target.id);
    if (target.inputTemplate.length > MAX_INPUT_TEMPLATE_LENGTH) {
      problems.push(
        `target ${target.rpc} has an input template of ${target.inputTemplate.length} characters; EventBridge allows ${MAX_INPUT_TEMPLATE_LENGTH}.`,
      );
    }
  }
  return problems;
}

function validateRetry(maxEventAgeSeconds: number, retryAttempts: number): string[] {
  const problems: string[] = [];
  checkRange(problems, 'maxEventAge', maxEventAgeSeconds, 60, 86400, ' s');
  checkRange(problems, 'retryAttempts', retryAttempts, 0, 185, '');
  return problems;
}
