/**
 * The event -> RPC graph of a router, the one description of it that the CLI `graph`, the dashboard
 * and the local runtime's status endpoint all show: every event with its publishers and subscribers
 * (with filters), and every RPC with the physical names of its queue and dead-letter queue. Derived
 * from the loaded router spec alone; pure: no AWS calls.
 */
import type { EventSpec, RouterSpec, RpcSpec, SubscriptionSpec } from '../config/types.ts';
import { type NameContext, names } from '../naming.ts';

/** One subscription as the graph shows it (absent filter = every event of that name). */
export type GraphSubscriber = Pick<SubscriptionSpec, 'rpc' | 'filter'>;

/** An event of the spec with who publishes it and who receives it. */
export interface GraphEvent
  extends Pick<EventSpec, 'name' | 'description' | 'publisher' | 'schema' | 'schemaVersion'> {
  /** RPCs that may publish this event as a follow-up. */
  readonly publishedBy: readonly string[];
  readonly subscribers: readonly GraphSubscriber[];
}

/** An RPC of the spec with the physical names of its queues. */
export interface GraphRpc extends Pick<RpcSpec, 'id' | 'service' | 'method' | 'description'> {
  readonly kind: RpcSpec['target']['kind'];
  readonly queueName: string;
  readonly dlqName: string;
  readonly maxReceiveCount: RpcSpec['settings']['maxReceiveCount'];
  /** Events delivered to this RPC. */
  readonly subscribedTo: readonly string[];
}

export interface Graph {
  readonly app: string;
  readonly stage: string;
  readonly deliveriesTable: string;
  readonly events: readonly GraphEvent[];
  readonly rpcs: readonly GraphRpc[];
}

/** Builds the graph of `spec`, events and RPCs in the order the spec declares them. */
export function buildGraph(spec: RouterSpec): Graph {
  const ctx: NameContext = { app: spec.app.name, stage: spec.app.stage };
  const rpcs = spec.services.flatMap((service) => service.rpcs);
  const events: GraphEvent[] = spec.events.map((event) => ({
    name: event.name,
    ...(event.description ? { description: event.description } : {}),
    // External publishers only: RPC publishers are listed in publishedBy (as follow-ups).
    publisher: event.publishers.filter((name) => !name.includes('/')).join(', '),
    schema: event.schema,
    schemaVersion: event.schemaVersion,
    publishedBy: rpcs.filter((rpc) => rpc.publishes.includes(event.name)).map((rpc) => rpc.id),
    subscribers: spec.subscriptions
      .filter((s) => s.event === event.name)
      .map((s) => ({ rpc: s.rpc, ...(s.filter ? { filter: s.filter } : {}) })),
  }));
  return {
    app: ctx.app,
    stage: ctx.stage,
    deliveriesTable: names.deliveriesTableName(ctx),
    events,
    rpcs: rpcs.map((rpc) => ({
      id: rpc.id,
      service: rpc.service,
      method: rpc.method,
      ...(rpc.description ? { description: rpc.description } : {}),
      kind: rpc.target.kind,
      queueName: names.queueName(ctx, rpc.id),
      dlqName: names.dlqName(ctx, rpc.id),
      maxReceiveCount: rpc.settings.maxReceiveCount,
      subscribedTo: [...new Set(spec.subscriptions.filter((s) => s.rpc === rpc.id).map((s) => s.event))],
    })),
  };
}

/** RPCs subscribed to `eventName`, each once, with whether any of its subscriptions filters. */
export function subscribersOf(graph: Graph, eventName: string): Array<{ rpc: string; filtered: boolean }> {
  const event = graph.events.find((e) => e.name === eventName);
  if (!event) return [];
  const out = new Map<string, boolean>();
  for (const s of event.subscribers) out.set(s.rpc, (out.get(s.rpc) ?? true) && s.filter !== undefined);
  return [...out].map(([rpc, filtered]) => ({ rpc, filtered }));
}
