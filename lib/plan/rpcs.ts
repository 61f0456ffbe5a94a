/**
 * Per-RPC planning: names, queue timing, the worker's entry and what it is told about its events.
 */

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SQS } from '../../common/aws-limits.ts';
import { SCHEMA_VERSION_KEY } from '../../common/contracts.ts';
import { publisherSource } from '../../common/naming.ts';
import { remoteCallTimeoutMs } from '../../common/remote-budget.ts';
import type { JsonSchema, RouterSpec, RpcSettings, RpcSpec } from '../config/types.ts';
import { type NameContext, names } from '../naming.ts';
import { planRpcAlarms } from './alarms.ts';
import type { RpcPlan, RpcRunner } from './types.ts';

/** SQS's maximum visibility timeout (12 h), from the one table of limits. */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = SQS.visibilityTimeoutSeconds.max;

/** Module run by the worker of a remote RPC. */
export const DEFAULT_REMOTE_ENTRY = fileURLToPath(
  new URL('../../functions/remote-rpc/index.ts', import.meta.url),
);

/** An RPC plan before it has been placed in a stack. */
export type RpcDraft = Omit<RpcPlan, 'stackName'>;

/**
 * Visibility timeout of an RPC's queue: 6 x the function timeout (so a batch that runs to its timeout,
 * plus retries of the invoke, never reappears while still being worked on) plus the batching window,
 * capped at SQS's 12 h.
 */
export function visibilityTimeoutFor(settings: RpcSettings): number {
  return Math.min(
    MAX_VISIBILITY_TIMEOUT_SECONDS,
    6 * settings.timeoutSeconds + settings.batchingWindowSeconds,
  );
}

/**
 * Timeout of one remote call: all of the function timeout but what the worker needs before the call
 * (the claim) and after it (recording the outcome); see common/remote-budget.ts.
 */
export function remoteTimeoutMsFor(settings: RpcSettings): number {
  return remoteCallTimeoutMs(settings.timeoutSeconds);
}

/** `POST <baseUrl>/<package>.<Service>/<Method>` (Connect protocol). */
export function remoteUrlFor(baseUrl: string, pkg: string, service: string, method: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${pkg}.${service}/${method}`;
}

function runnerFor(rpc: RpcSpec): RpcRunner {
  if (rpc.target.kind === 'handler') return { kind: 'handler' };
  return {
    kind: 'remote',
    url: remoteUrlFor(rpc.target.baseUrl, rpc.target.package, rpc.service, rpc.method),
    timeoutMs: remoteTimeoutMsFor(rpc.settings),
  };
}

function entryFor(rpc: RpcSpec, rootDir: string, remoteEntry: string): string {
  if (rpc.target.kind === 'remote') return remoteEntry;
  return isAbsolute(rpc.target.handler) ? rpc.target.handler : resolve(rootDir, rpc.target.handler);
}

/** What planning an RPC needs from the whole spec, indexed once for all RPCs. */
export interface RpcPlanningContext {
  readonly ctx: NameContext;
  /** Directory handler paths are relative to. */
  readonly rootDir: string;
  readonly remoteEntry: string;
  /** RPC id -> names of the events it subscribes to, in declaration order, without duplicates. */
  readonly subscribedEvents: ReadonlyMap<string, readonly string[]>;
  /** Event name -> its payload schema. */
  readonly schemas: ReadonlyMap<string, JsonSchema>;
  /** Event name -> its schema version. */
  readonly schemaVersions: ReadonlyMap<string, number>;
}

/** Indexes the spec's subscriptions and event schemas for planRpc. */
export function rpcPlanningContext(
  spec: RouterSpec,
  ctx: NameContext,
  remoteEntry: string,
): RpcPlanningContext {
  const subscribed = new Map<string, Set<string>>();
  for (const sub of spec.subscriptions) {
    const events = subscribed.get(sub.rpc) ?? new Set<string>();
    events.add(sub.event);
    subscribed.set(sub.rpc, events);
  }
  return {
    ctx,
    rootDir: spec.rootDir,
    remoteEntry,
    subscribedEvents: new Map([...subscribed].map(([rpc, events]) => [rpc, [...events]])),
    schemas: new Map(spec.events.map((event) => [event.name, event.schema])),
    schemaVersions: new Map(spec.events.map((event) => [event.name, event.schemaVersion])),
  };
}

/** Plans one RPC (everything except its stack). */
export function planRpc(rpc: RpcSpec, planning: RpcPlanningContext): RpcDraft {
  const { ctx } = planning;
  const subscribedEvents = [...(planning.subscribedEvents.get(rpc.id) ?? [])];
  const eventSchemas: Record<string, JsonSchema> = {};
  for (const eventName of subscribedEvents) {
    const schema = planning.schemas.get(eventName);
    if (schema) eventSchemas[eventName] = schema;
  }
  const visibilityTimeoutSeconds = visibilityTimeoutFor(rpc.settings);
  const publishedSchemas: Record<string, JsonSchema> = {};
  for (const eventName of rpc.publishes) {
    const schema = planning.schemas.get(eventName);
    if (schema)
      publishedSchemas[eventName] = {
        ...schema,
        [SCHEMA_VERSION_KEY]: planning.schemaVersions.get(eventName) ?? 1,
      };
  }
  return {
    id: rpc.id,
    service: rpc.service,
    method: rpc.method,
    ...(rpc.description === undefined ? {} : { description: rpc.description }),
    runner: runnerFor(rpc),
    entry: entryFor(rpc, planning.rootDir, planning.remoteEntry),
    settings: rpc.settings,
    visibilityTimeoutSeconds,
    queueName: names.queueName(ctx, rpc.id),
    dlqName: names.dlqName(ctx, rpc.id),
    functionName: names.functionName(ctx, rpc.id),
    alarmName: names.dlqAlarmName(ctx, rpc.id),
    alarms: planRpcAlarms(ctx, rpc.id, rpc.settings, visibilityTimeoutSeconds),
    publishes: [...rpc.publishes],
    source: publisherSource(ctx.app, rpc.id),
    publishedSchemas,
    subscribedEvents,
    eventSchemas,
  };
}
