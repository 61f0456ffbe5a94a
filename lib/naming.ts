/**
 * The one naming convention for physical resource names.
 *
 * Every name derives from app, stage, service and RPC, so stacks find each other's resources without
 * exports, the local runtime finds queues by name, and ops tools can compute a queue's URL from an RPC id.
 * Names that would pass an AWS length limit are shortened deterministically (prefix + short hash), by
 * common/naming.ts, which also holds the publishers' event sources.
 */
import { NAME_LIMITS } from '../common/aws-limits.ts';
import { kebabCase as kebab } from '../common/case.ts';
import { fitName, publisherSource, splitRpcId } from '../common/naming.ts';

export interface NameContext {
  readonly app: string;
  readonly stage: string;
}

export function prefix(ctx: NameContext): string {
  return `${ctx.app}-${ctx.stage}`;
}

const LIMITS = {
  queue: NAME_LIMITS.queueName,
  function: NAME_LIMITS.functionName,
  rule: NAME_LIMITS.ruleName,
  stack: NAME_LIMITS.stackName,
  table: NAME_LIMITS.tableName,
  bus: NAME_LIMITS.busName,
  alarm: NAME_LIMITS.alarmName,
  topic: NAME_LIMITS.topicName,
  managedPolicy: NAME_LIMITS.managedPolicyName,
};

export const names = {
  busName: (ctx: NameContext) => fitName(`${prefix(ctx)}-bus`, LIMITS.bus),
  archiveName: (ctx: NameContext) => fitName(`${prefix(ctx)}-archive`, NAME_LIMITS.archiveName),
  deliveriesTableName: (ctx: NameContext) => fitName(`${prefix(ctx)}-deliveries`, LIMITS.table),
  alarmTopicName: (ctx: NameContext) => fitName(`${prefix(ctx)}-alarms`, LIMITS.topic),
  coreStackName: (ctx: NameContext) => fitName(`${prefix(ctx)}-core`, LIMITS.stack),
  /** Shard 0 is `<prefix>-<service>`; further shards get `-2`, `-3`, ... */
  serviceStackName: (ctx: NameContext, service: string, shard = 0) =>
    fitName(`${prefix(ctx)}-${kebab(service)}${shard > 0 ? `-${shard + 1}` : ''}`, LIMITS.stack),
  /** Base name of everything that belongs to one RPC: `<app>-<stage>-<service>-<method>`. */
  rpcBase: (ctx: NameContext, rpcId: string) => {
    const { service, method } = splitRpcId(rpcId);
    return `${prefix(ctx)}-${kebab(service)}-${kebab(method)}`;
  },
  queueName: (ctx: NameContext, rpcId: string) => fitName(names.rpcBase(ctx, rpcId), LIMITS.queue - 4),
  dlqName: (ctx: NameContext, rpcId: string) => `${fitName(names.rpcBase(ctx, rpcId), LIMITS.queue - 4)}-dlq`,
  functionName: (ctx: NameContext, rpcId: string) => fitName(names.rpcBase(ctx, rpcId), LIMITS.function),
  dlqAlarmName: (ctx: NameContext, rpcId: string) =>
    fitName(`${names.rpcBase(ctx, rpcId)}-dlq-depth`, LIMITS.alarm),
  /** Age of the oldest message on an RPC's queue: `<rpcBase>-backlog`. */
  backlogAlarmName: (ctx: NameContext, rpcId: string) =>
    fitName(`${names.rpcBase(ctx, rpcId)}-backlog`, LIMITS.alarm),
  /** Error rate of an RPC's worker: `<rpcBase>-error-rate`. */
  errorRateAlarmName: (ctx: NameContext, rpcId: string) =>
    fitName(`${names.rpcBase(ctx, rpcId)}-error-rate`, LIMITS.alarm),
  /** Failed invocations of one rule: `<rule name>-failed-invocations` (rule names start with the prefix). */
  ruleAlarmName: (ruleName: string) => fitName(`${ruleName}-failed-invocations`, LIMITS.alarm),
  /** Rules are named after the event, the subscribing service and an index, e.g. `<prefix>-card-transaction-authorized-notification-service-1`. */
  ruleName: (ctx: NameContext, eventName: string, service: string, index: number) =>
    fitName(`${prefix(ctx)}-${kebab(eventName)}-${kebab(service)}-${index}`, LIMITS.rule),
  publishFunctionName: (ctx: NameContext) => fitName(`${prefix(ctx)}-publish`, LIMITS.function),
  statusFunctionName: (ctx: NameContext) => fitName(`${prefix(ctx)}-event-status`, LIMITS.function),
  publishApiName: (ctx: NameContext) => fitName(`${prefix(ctx)}-publish-api`, 1024),
  /** The publish API's default API key and its usage plan (auth `apiKey` only): `<prefix>-publish-api-default`. */
  publishApiKeyName: (ctx: NameContext) => fitName(`${prefix(ctx)}-publish-api-default`, 1024),
  /**
   * The customer-managed IAM policy that lets ops inspect and redrive the DLQs of one service stack (shard):
   * `<prefix>-<service>[-<shard + 1>]-dlq-operator`, within IAM's 128 characters.
   */
  /** The managed policy of an external publisher that puts events on the bus itself: `<prefix>-<publisher>-publisher`. */
  publisherPolicyName: (ctx: NameContext, publisher: string) =>
    fitName(`${prefix(ctx)}-${kebab(publisher)}-publisher`, LIMITS.managedPolicy),
  /** See publisherSource. */
  publisherSource: (ctx: NameContext, publisher: string) => publisherSource(ctx.app, publisher),
  dlqOperatorPolicyName: (ctx: NameContext, service: string, shard = 0) =>
    fitName(
      `${prefix(ctx)}-${kebab(service)}${shard > 0 ? `-${shard + 1}` : ''}-dlq-operator`,
      LIMITS.managedPolicy,
    ),
  /** The read-only twin of the operator policy: `<prefix>-<service>[-<shard + 1>]-dlq-viewer`. */
  dlqViewerPolicyName: (ctx: NameContext, service: string, shard = 0) =>
    fitName(
      `${prefix(ctx)}-${kebab(service)}${shard > 0 ? `-${shard + 1}` : ''}-dlq-viewer`,
      LIMITS.managedPolicy,
    ),
  /** The router's ops records policy (audit trail, edit notes), in the core stack: `<prefix>-ops-records`. */
  opsRecordsPolicyName: (ctx: NameContext) => fitName(`${prefix(ctx)}-ops-records`, LIMITS.managedPolicy),
  /**
   * What every replay name of the router starts with (`<app>-<stage>-`): the ops records policy grants
   * DescribeReplay and CancelReplay on replays so named only.
   */
  replayNamePrefix: (ctx: NameContext) =>
    `${`${ctx.app}-${ctx.stage}`.replace(/[^.\-_A-Za-z0-9]/g, '-').slice(0, 32)}-`,
};
