/**
 * How many CloudFormation resources the constructs create, so the planner can keep every stack under
 * CloudFormation's 500-resource limit. These numbers mirror lib/constructs/ exactly; the CDK tests check
 * that each planned stack's estimate equals the synthesized template's resource count.
 */

/** CloudFormation's hard limit of resources per stack. */
export const CLOUDFORMATION_STACK_RESOURCE_LIMIT = 500;

/** Default budget per service stack: the limit minus a margin. */
export const DEFAULT_STACK_RESOURCE_BUDGET = 450;

/**
 * Per RPC: queue, queue policy, dead-letter queue, dead-letter queue policy, function, execution role
 * (policy inline), log group, event source mapping, and three alarms: DLQ depth, backlog (age of the
 * oldest message) and worker error rate.
 */
export const RESOURCES_PER_RPC = 11;

/**
 * Per rule: the rule itself (targets are inline; queue policy statements live in the RPCs' policies)
 * and its FailedInvocations alarm.
 */
export const RESOURCES_PER_RULE = 2;

/** IAM's limit on a managed policy document, in characters not counting white space. */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/**
 * Most RPCs one service stack holds, whatever the resource budget: the stack's DLQ operator policy names
 * each RPC's queue and DLQ by ARN and must stay within MANAGED_POLICY_MAX_CHARS. With the longest names
 * the convention allows (queue 76, DLQ 80 characters) and the longest ARN prefix, an RPC takes about
 * 255 characters of the policy and the rest about 1,000, so 20 RPCs always fit (the CDK tests check it).
 */
export const MAX_RPCS_PER_SERVICE_STACK = 20;

/** Per stack: the CDK metadata resource and the DLQ operator and viewer policies (customer-managed IAM policies). */
export const RESOURCES_PER_STACK = 3;

/** Resources of a service stack holding `rpcs` RPCs and `rules` rules. */
export function estimateServiceStack(rpcs: number, rules: number): number {
  return RESOURCES_PER_STACK + rpcs * RESOURCES_PER_RPC + rules * RESOURCES_PER_RULE;
}
