/**
 * How the subscriptions of a service group into EventBridge rules: one group per (event, identical
 * filter), at most EVENTBRIDGE.targetsPerRule targets each. The loader counts rules with it (bus quota,
 * queue policy size) and the planner names and places the same groups (lib/plan/rules.ts).
 */
import { EVENTBRIDGE } from '../../common/aws-limits.ts';
import { splitRpcId } from '../../common/naming.ts';
import { canonicalJson } from './canonical-json.ts';
import type { SubscriptionSpec } from './types.ts';

/** A rule before it is named and placed: an event, a filter and 1..5 subscribing RPCs. */
export interface RuleDraft {
  readonly eventName: string;
  readonly service: string;
  readonly filter?: Record<string, unknown>;
  readonly rpcs: readonly string[];
}

/**
 * Groups the subscriptions of `service` that reach one of `rpcIds` into rules: one group per
 * (event, filter) in order of first appearance, split into chunks of at most 5 targets.
 */
export function groupRules(
  subscriptions: readonly SubscriptionSpec[],
  service: string,
  rpcIds: ReadonlySet<string>,
): RuleDraft[] {
  const groups = new Map<string, { eventName: string; filter?: Record<string, unknown>; rpcs: string[] }>();
  for (const sub of subscriptions) {
    if (!rpcIds.has(sub.rpc) || splitRpcId(sub.rpc).service !== service) continue;
    const key = `${sub.event}\n${sub.filter === undefined ? '' : canonicalJson(sub.filter)}`;
    let group = groups.get(key);
    if (!group) {
      group = { eventName: sub.event, ...(sub.filter === undefined ? {} : { filter: sub.filter }), rpcs: [] };
      groups.set(key, group);
    }
    if (!group.rpcs.includes(sub.rpc)) group.rpcs.push(sub.rpc);
  }
  const drafts: RuleDraft[] = [];
  for (const group of groups.values()) {
    for (let start = 0; start < group.rpcs.length; start += EVENTBRIDGE.targetsPerRule) {
      drafts.push({
        eventName: group.eventName,
        service,
        ...(group.filter === undefined ? {} : { filter: group.filter }),
        rpcs: group.rpcs.slice(start, start + EVENTBRIDGE.targetsPerRule),
      });
    }
  }
  return drafts;
}
