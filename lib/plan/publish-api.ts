/**
 * Planning the publish API: its names, auth and throttling, the publishers it serves, and the constants
 * compiled into the publish function (event schemas with their versions, subscriptions, publishers).
 * The PublishApi construct reads only this.
 */
import { kebabCase } from '../../common/case.ts';
import {
  BUNDLE_DEFINES,
  ENV,
  FILTERED_SUBSCRIPTIONS_DEFINE,
  SCHEMA_VERSION_KEY,
} from '../../common/contracts.ts';
import { PUBLISHERS_DEFINE, type PublisherDirectory } from '../../common/publishers.ts';
import { servedByPublishApi } from '../config/publishers.ts';
import type { RouterSpec } from '../config/types.ts';
import { type NameContext, names } from '../naming.ts';
import type { PublishApiPlan, PublisherPlan } from './types.ts';

/** Event name -> RPC ids subscribed to it, in YAML order (the publish function's ER_SUBSCRIPTIONS). */
export function subscriptionsByEvent(spec: Pick<RouterSpec, 'subscriptions'>): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const subscription of spec.subscriptions) {
    const rpcs = map[subscription.event] ?? [];
    if (!rpcs.includes(subscription.rpc)) rpcs.push(subscription.rpc);
    map[subscription.event] = rpcs;
  }
  return map;
}

/** Event name -> RPC ids whose subscription has a content filter (they may never receive a given event). */
export function filteredSubscriptionsByEvent(
  spec: Pick<RouterSpec, 'subscriptions'>,
): Record<string, string[]> {
  return subscriptionsByEvent({
    subscriptions: spec.subscriptions.filter((subscription) => subscription.filter),
  });
}

/** The publishers the API serves: those that prove who they are the way the API authenticates. */
export function servedPublishers(spec: RouterSpec, publishers: readonly PublisherPlan[]): PublisherPlan[] {
  return publishers.filter((p) => servedByPublishApi(p, spec.app.publishApi.auth));
}

/**
 * Compile-time constants of the publish function: every event's schema (with its schema version under
 * `x-schema-version`), the subscriptions and those with a content filter, and the served publishers, as JSON.
 */
export function publishFunctionConstants(
  spec: RouterSpec,
  served: readonly PublisherPlan[],
): Record<string, string> {
  const schemas = Object.fromEntries(
    spec.events.map((event) => [event.name, { ...event.schema, [SCHEMA_VERSION_KEY]: event.schemaVersion }]),
  );
  const directory: PublisherDirectory = {
    publishers: served.map((p) => ({
      name: p.name,
      source: p.source,
      events: [...p.events],
      ...(p.identity ? { identity: p.identity } : {}),
    })),
    eventPublishers: Object.fromEntries(spec.events.map((event) => [event.name, [...event.publishers]])),
  };
  return {
    [BUNDLE_DEFINES.eventSchemas]: JSON.stringify(schemas),
    [ENV.subscriptions]: JSON.stringify(subscriptionsByEvent(spec)),
    [FILTERED_SUBSCRIPTIONS_DEFINE]: JSON.stringify(filteredSubscriptionsByEvent(spec)),
    [PUBLISHERS_DEFINE]: JSON.stringify(directory),
  };
}

/** The publish API of `spec`, serving the API's publishers among `publishers` (planPublishers). */
export function planPublishApi(spec: RouterSpec, publishers: readonly PublisherPlan[]): PublishApiPlan {
  const ctx: NameContext = { app: spec.app.name, stage: spec.app.stage };
  const served = servedPublishers(spec, publishers);
  const { auth, rateLimit, burstLimit } = spec.app.publishApi;
  return {
    names: ctx,
    auth,
    rateLimit,
    burstLimit,
    recordRetentionSeconds: spec.app.dedupRetentionSeconds,
    functionName: names.publishFunctionName(ctx),
    apiName: names.publishApiName(ctx),
    apiKeyName: names.publishApiKeyName(ctx),
    busName: names.busName(ctx),
    served,
    publisherKeyNames: Object.fromEntries(
      served.map((p) => [
        p.name,
        `${names.publishApiName(ctx)}-${kebabCase(p.identity?.kind === 'apiKey' ? p.identity.name : p.name)}`,
      ]),
    ),
    constants: publishFunctionConstants(spec, served),
  };
}
