/**
 * Stack placement: one stack per service, split into shards (`-2`, `-3`, ...) when a service would pass
 * the resource budget. A rule always lives with the queues it targets, so the rules of a shard are
 * planned from that shard's RPCs only and no stack needs another's resources.
 */

import { groupRules } from '../config/rule-groups.ts';
import type { SubscriptionSpec } from '../config/types.ts';
import { estimateServiceStack, MAX_RPCS_PER_SERVICE_STACK } from './estimate.ts';

/** Resources of a stack holding exactly these RPCs of `service`. */
function estimateFor(subscriptions: readonly SubscriptionSpec[], service: string, rpcIds: readonly string[]) {
  return estimateServiceStack(rpcIds.length, groupRules(subscriptions, service, new Set(rpcIds)).length);
}

/**
 * Splits the RPCs of one service (in declaration order) into consecutive shards, each estimated at or
 * below `budget` resources and holding at most MAX_RPCS_PER_SERVICE_STACK RPCs (so the stack's DLQ
 * operator policy fits IAM's size limit). An RPC that alone passes the budget still gets a shard of its
 * own (the planner warns about it).
 */
export function shardService(
  subscriptions: readonly SubscriptionSpec[],
  service: string,
  rpcIds: readonly string[],
  budget: number,
): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  for (const rpcId of rpcIds) {
    const candidate = [...current, rpcId];
    const full = candidate.length > MAX_RPCS_PER_SERVICE_STACK;
    if (current.length > 0 && (full || estimateFor(subscriptions, service, candidate) > budget)) {
      shards.push(current);
      current = [rpcId];
    } else {
      current = candidate;
    }
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}
