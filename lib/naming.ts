/**
 * The one naming convention for physical resource names.
 *
 * Every name derives from app, stage, service and RPC, so stacks find each other's resources without
 * exports, the local runtime finds queues by name, and ops tools can compute a queue's URL from an RPC id.
 * Names that would pass an AWS length limit are shortened deterministically (prefix + short hash).
 */
import { createHash } from 'node:crypto';
import { NAME_LIMITS } from '../functions/commons/aws-limits.ts';
import { EVENT_SOURCE_PREFIX } from '../functions/commons/contracts.ts';

export interface NameContext {
  readonly app: string;
  readonly stage: string;
}

/** `NotificationService` -> `notification-service`; `NotifyCardholder` -> `notify-cardholder`. */
export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
}

/** Shortens `name` to `max` characters, replacing the tail with a stable 8-character hash of the whole. */
export function fitName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - 9).replace(/-+$/, '')}-${hash}`;
}

export function prefix(ctx: NameContext): string {
  return `${ctx.app}-${ctx.stage}`;
}

/** Splits `Service/Method`. Throws on a malformed id (the loader rejects those before this is reached). */
export function splitRpcId(rpcId: string): { service: string; method: string } {
  const [service, method, ...rest] = rpcId.split('/');
  if (!service || !method || rest.length > 0)
    throw new Error(`Malformed RPC id "${rpcId}": expected Service/Method`);
  return { service, method };
}

/**
 * The EventBridge `source` of a publisher: `event-router.<app>.<service>.<method>` for an RPC
 * (`Service/Method`) publishing follow-ups, `event-router.<app>.<publisher>` for an external publisher
 * (kebab-case). The two shapes cannot collide: kebab-case names hold no dots. Every rule matches only the
 * sources of its event's declared publishers; every PutEvents grant is scoped to one of them.
 */
export function publisherSource(app: string, publisher: string): string {
  const parts = publisher.includes('/') ? publisher.split('/').map(kebab) : [kebab(publisher)];
  return fitName([EVENT_SOURCE_PREFIX, app, ...parts].filter(Boolean).join('.'), LIMITS.source);
}

const LIMITS = {
  /** PutEvents entry `Source`: at most 256 characters (EventBridge API reference, PutEventsRequestEntry). */
  source: 256,
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
};
