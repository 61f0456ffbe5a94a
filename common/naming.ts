/**
 * The naming rules that code at run time shares with the tooling: the EventBridge `source` of a
 * publisher, fitting a name to an AWS length limit, and splitting an RPC id. lib/naming.ts builds the
 * physical resource names on these.
 *
 * Pure functions only: Lambda code imports this module too.
 */
import { createHash } from 'node:crypto';
import { NAME_LIMITS } from './aws-limits.ts';
import { kebabCase } from './case.ts';

/** EventBridge `source` of events published through event-router. */
export const EVENT_SOURCE_PREFIX = 'event-router';

/** Shortens `name` to `max` characters, replacing the tail with a stable 8-character hash of the whole. */
export function fitName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, max - 9).replace(/-+$/, '')}-${hash}`;
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
  const parts = publisher.includes('/') ? publisher.split('/').map(kebabCase) : [kebabCase(publisher)];
  return fitName([EVENT_SOURCE_PREFIX, app, ...parts].filter(Boolean).join('.'), NAME_LIMITS.eventSource);
}
