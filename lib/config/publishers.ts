/**
 * Who may publish what: every name in an event's `publisher:` is a declared external publisher or an
 * RPC that lists the event under `publishes:` (and every `publishes:` entry is named by its event), every
 * external publisher can prove who it is, and no follow-up leads back to an RPC that publishes it again
 * unless the YAML says the loop is intended.
 *
 * Codes: `unknown-publisher`, `undeclared-follow-up`, `unauthorized-publisher`, `publish-cycle` (errors),
 * `unused-publisher` (warning).
 */
import type { Node } from 'yaml';
import type { EventDraft } from './sections/events.ts';
import type { PublisherDraft } from './sections/publishers.ts';
import type { RpcDraft } from './sections/services.ts';
import { closest } from './suggest.ts';
import type { ExternalPublisherSpec, PublishApiAuth, SubscriptionSpec } from './types.ts';
import type { YamlReader } from './yaml-reader.ts';

/** Whether the publish API serves `publisher`: it proves who it is the way the API authenticates, and has events. */
export function servedByPublishApi(
  publisher: Pick<ExternalPublisherSpec, 'identity' | 'events'>,
  auth: PublishApiAuth,
): boolean {
  return publisher.identity?.kind === auth.type && publisher.events.length > 0;
}

/** Checks publishers against events and RPCs; returns the external publishers with their events. */
export function checkPublishers(
  reader: YamlReader,
  publishers: readonly PublisherDraft[],
  events: readonly EventDraft[],
  rpcs: readonly RpcDraft[],
  knownRpcIds: ReadonlySet<string>,
  apiAuth: PublishApiAuth,
  complete: boolean,
): ExternalPublisherSpec[] {
  const external = new Map(publishers.map((p) => [p.name, p]));
  const rpcById = new Map(rpcs.map((rpc) => [rpc.spec.id, rpc]));
  const eventsOf = new Map<string, string[]>(publishers.map((p) => [p.name, []]));
  const names = [...external.keys(), ...knownRpcIds];

  for (const event of events) {
    const eventName = event.spec.name;
    for (const ref of event.publisherRefs) {
      if (external.has(ref.name)) {
        eventsOf.get(ref.name)?.push(eventName);
        continue;
      }
      const rpc = rpcById.get(ref.name);
      if (rpc) {
        if (!rpc.publishes.some((p) => p.name === eventName))
          reader.diagnostics.error(
            reader.loc(ref.node),
            'undeclared-follow-up',
            `Event "${eventName}" names ${rpc.spec.id} as its publisher, but that RPC does not list it under "publishes".`,
            `Add "${eventName}" to the "publishes" of ${rpc.spec.id}, or name the event's real publisher.`,
          );
        continue;
      }
      if (knownRpcIds.has(ref.name)) continue; // declared, but its settings had errors (already reported)
      reader.diagnostics.error(
        reader.loc(ref.node),
        'unknown-publisher',
        `The publisher "${ref.name}" of event "${eventName}" is not declared.`,
        unknownPublisherHint(ref.name, eventName, names, rpcs),
      );
    }
  }

  const byName = new Map(events.map((event) => [event.spec.name, event]));
  for (const rpc of rpcs) {
    for (const published of rpc.publishes) {
      const event = byName.get(published.name);
      if (!event || event.publisherRefs.some((ref) => ref.name === rpc.spec.id)) continue;
      if (event.publisherRefs.length === 0) continue; // its missing publisher is already reported
      reader.diagnostics.error(
        reader.loc(published.node),
        'undeclared-follow-up',
        `${rpc.spec.id} publishes "${published.name}", but the event names ${event.spec.publisher} as its publisher, not this RPC.`,
        `Add ${rpc.spec.id} to the event's publisher (\`publisher: [${[...event.publisherRefs.map((r) => r.name), rpc.spec.id].join(', ')}]\`), or remove "${published.name}" from "publishes".`,
      );
    }
  }

  const out: ExternalPublisherSpec[] = [];
  for (const publisher of publishers) {
    const own = eventsOf.get(publisher.name) ?? [];
    checkAuthorized(reader, publisher, apiAuth);
    // Unused is only known when every event and its publisher could be read.
    if (own.length === 0 && complete && events.every((event) => event.publisherRefs.length > 0))
      reader.diagnostics.warning(
        reader.loc(publisher.keyNode),
        'unused-publisher',
        `No event names publisher ${publisher.name}, so it may publish nothing.`,
        `Name it in an event (\`publisher: ${publisher.name}\`), or remove it.`,
      );
    out.push({
      name: publisher.name,
      ...(publisher.description !== undefined ? { description: publisher.description } : {}),
      ...(publisher.identity ? { identity: publisher.identity } : {}),
      putsOnBus: publisher.putsOnBus,
      events: own,
      location: publisher.location,
    });
  }
  return out;
}

function unknownPublisherHint(
  name: string,
  eventName: string,
  names: readonly string[],
  rpcs: readonly RpcDraft[],
): string {
  const follower = rpcs.find(
    (rpc) => rpc.spec.service === name && rpc.publishes.some((p) => p.name === eventName),
  );
  if (follower) return `${follower.spec.id} publishes it: write \`publisher: ${follower.spec.id}\`.`;
  const suggestion = closest(name, names);
  if (suggestion) return `Did you mean "${suggestion}"?`;
  return `Declare it under "publishers:" with how it proves who it is, e.g. \`publishers: { ${name}: { iam: "arn:aws:iam::<account>:role/<role>" } }\`, or name the RPC (Service/Method) that publishes it.`;
}

/** An external publisher must be recognizable by the publish API, or put its events on the bus itself. */
function checkAuthorized(reader: YamlReader, publisher: PublisherDraft, apiAuth: PublishApiAuth): void {
  if (publisher.putsOnBus) return;
  if (!publisher.identity && publisher.identityNode) return; // written but malformed: already reported
  if (!publisher.identity) {
    reader.diagnostics.error(
      reader.loc(publisher.keyNode),
      'unauthorized-publisher',
      `Nothing authorizes publisher ${publisher.name}: it has no identity for the publish API and does not put events on the bus.`,
      `Add how it proves who it is to the publish API (auth ${apiAuth.type}): ${identityExample(apiAuth)}; or \`putsOnBus: true\` if it calls PutEvents itself.`,
    );
    return;
  }
  if (publisher.identity.kind !== apiAuth.type)
    reader.diagnostics.error(
      reader.loc(publisher.identityNode ?? publisher.keyNode),
      'unauthorized-publisher',
      `Publisher ${publisher.name} proves who it is with ${publisher.identity.kind}, but the publish API uses ${apiAuth.type} auth: nothing would ever authorize it.`,
      `Use ${identityExample(apiAuth)}, or change app.publishApi.auth to ${publisher.identity.kind}.`,
    );
}

function identityExample(auth: PublishApiAuth): string {
  switch (auth.type) {
    case 'iam':
      return '`iam: arn:aws:iam::<account>:role/<role>`';
    case 'jwt':
      return '`jwt: { claim: client_id, value: <its client id> }`';
    case 'apiKey':
      return '`apiKey: <key name>`';
  }
}

/** One step of a publish loop: `rpc` publishes `event`, which is delivered to the next step's RPC. */
interface Step {
  readonly rpc: string;
  readonly event: string;
}

/**
 * Reports every loop of follow-ups: an RPC whose follow-up reaches, through subscriptions, an RPC that
 * leads back to it. On AWS such a loop runs until someone stops it. A loop through an RPC marked
 * `intendedLoop: true` is accepted.
 */
export function checkPublishCycles(
  reader: YamlReader,
  rpcs: readonly RpcDraft[],
  subscriptions: readonly SubscriptionSpec[],
): void {
  const subscribers = new Map<string, string[]>();
  for (const sub of subscriptions) {
    const list = subscribers.get(sub.event) ?? [];
    if (!list.includes(sub.rpc)) list.push(sub.rpc);
    subscribers.set(sub.event, list);
  }
  const order = new Map(rpcs.map((rpc, i) => [rpc.spec.id, i]));
  const byId = new Map(rpcs.map((rpc) => [rpc.spec.id, rpc]));
  const edges = (rpc: string): Step[] =>
    (byId.get(rpc)?.publishes ?? []).map((p) => ({ rpc, event: p.name }));

  const state = new Map<string, 'open' | 'done'>();
  const stack: Step[] = [];
  const reported = new Set<string>();
  const visit = (rpc: string) => {
    state.set(rpc, 'open');
    for (const step of edges(rpc)) {
      for (const next of subscribers.get(step.event) ?? []) {
        stack.push(step);
        if (state.get(next) === 'open') report(stack.slice(stack.findIndex((s) => s.rpc === next)));
        else if (!state.has(next) && byId.has(next)) visit(next);
        stack.pop();
      }
    }
    state.set(rpc, 'done');
  };
  const report = (cycle: Step[]) => {
    if (cycle.some((step) => byId.get(step.rpc)?.spec.intendedLoop)) return;
    // Start at the RPC declared first, so the same loop is told the same way and reported once.
    let start = 0;
    cycle.forEach((step, i) => {
      if ((order.get(step.rpc) ?? 0) < (order.get(cycle[start]?.rpc ?? '') ?? 0)) start = i;
    });
    const steps = [...cycle.slice(start), ...cycle.slice(0, start)];
    const key = steps.map((s) => `${s.rpc}>${s.event}`).join('|');
    if (reported.has(key)) return;
    reported.add(key);
    const first = steps[0] as Step;
    const path = steps.map((s) => `${s.rpc} publishes "${s.event}"`).join(' -> ');
    const node: Node | undefined = byId.get(first.rpc)?.publishes.find((p) => p.name === first.event)?.node;
    reader.diagnostics.error(
      reader.loc(node),
      'publish-cycle',
      `Follow-ups loop: ${path} -> ${first.rpc} again. On AWS each event publishes the next one forever.`,
      `Break the loop (publish a different event, or unsubscribe one of these RPCs), or set \`intendedLoop: true\` on ${first.rpc} if its handler ends the loop itself.`,
    );
  };
  for (const rpc of rpcs) if (!state.has(rpc.spec.id)) visit(rpc.spec.id);
}
