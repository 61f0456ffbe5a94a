/**
 * Planning: RouterSpec -> Plan (plain data the constructs declare).
 */
export {
  CLOUDFORMATION_STACK_RESOURCE_LIMIT,
  DEFAULT_STACK_RESOURCE_BUDGET,
  estimateServiceStack,
  MANAGED_POLICY_MAX_CHARS,
  MAX_RPCS_PER_SERVICE_STACK,
  RESOURCES_PER_RPC,
  RESOURCES_PER_RULE,
  RESOURCES_PER_STACK,
} from './estimate.ts';
export { DEFAULT_BUS_RULE_QUOTA, planPublishers, planRouter } from './plan.ts';
export {
  MAX_VISIBILITY_TIMEOUT_SECONDS,
  remoteTimeoutMsFor,
  remoteUrlFor,
  visibilityTimeoutFor,
} from './rpcs.ts';
export { MAX_TARGETS_PER_RULE } from './rules.ts';
export type * from './types.ts';
