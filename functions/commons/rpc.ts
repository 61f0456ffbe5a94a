/**
 * `defineRpc`: the typed way to write an RPC handler module. The exported value is the complete
 * worker Lambda handler for the RPC's SQS queue.
 *
 * @example One event
 * export const handler = defineRpc('card.transaction.authorized', async (payload, ctx) => {
 *   ctx.logger.info('Notifying cardholder', { cardholderId: payload.cardholderId });
 *   return { notified: true };
 * });
 *
 * @example Several events, one function each
 * export const handler = defineRpc({
 *   'card.transaction.authorized': async (payload, ctx) => { ... },
 *   'card.transaction.settled': async (payload, ctx) => { ... },
 * });
 */
import type { EventName, EventPayloads } from '../../generated/events.ts';
import { EVENT_SCHEMA_VERSIONS } from '../../generated/events.ts';
import type { DeliveryContext } from './context.ts';
import { createWorkerHandler, type WorkerHandler } from './handler.ts';
import type { WorkerOptions } from './worker.ts';

export { NonRetryableError } from './errors.ts';
export type { WorkerHandler } from './handler.ts';
export type { WorkerOptions } from './worker.ts';

/** The context of a handler run for event `E`. */
export interface RpcContext<E extends EventName = EventName>
  extends Omit<DeliveryContext, 'eventName' | 'publish'> {
  readonly eventName: E;
  /**
   * Publishes follow-up event `name` (listed under `publishes:` of this RPC) and resolves to its
   * eventId; the id is the same when this delivery is re-run, so a retry does not duplicate it.
   */
  publish<N extends EventName>(name: N, payload: EventPayloads[N]): Promise<string>;
}

/** The function that handles one event. Its return value (JSON) is recorded with the delivery. */
export type RpcFunction<E extends EventName> = (payload: EventPayloads[E], ctx: RpcContext<E>) => unknown;

/** One function per event an RPC receives. Unknown event names do not compile. */
export type RpcRoutes = { readonly [E in EventName]?: RpcFunction<E> };

/** A worker handler defined with {@link defineRpc}; `routes` lets tests and benchmarks call the functions directly. */
export interface RpcHandler extends WorkerHandler {
  readonly routes: RpcRoutes;
}

/** Defines an RPC that receives one event. */
export function defineRpc<E extends EventName>(
  eventName: E,
  fn: RpcFunction<E>,
  options?: WorkerOptions,
): RpcHandler;
/** Defines an RPC that receives several events, with one function per event. */
export function defineRpc(routes: RpcRoutes, options?: WorkerOptions): RpcHandler;
export function defineRpc(
  first: EventName | RpcRoutes,
  second?: RpcFunction<EventName> | WorkerOptions,
  third?: WorkerOptions,
): RpcHandler {
  const routes: RpcRoutes =
    typeof first === 'string' ? ({ [first]: second as RpcFunction<EventName> } as RpcRoutes) : first;
  const options = (typeof first === 'string' ? third : (second as WorkerOptions | undefined)) ?? {};
  const names = Object.keys(routes);
  if (names.length === 0 || names.some((name) => typeof routes[name as EventName] !== 'function'))
    throw new Error(
      'defineRpc needs an event name and a function, or an object mapping each event name to a function; ' +
        `got ${names.length === 0 ? 'no events' : `a non-function for ${names.join(', ')}`}.`,
    );
  const handler = createWorkerHandler(
    {
      handles: (eventName) => Object.hasOwn(routes, eventName),
      run: async (payload, ctx) => {
        const fn = routes[ctx.eventName as EventName] as RpcFunction<EventName>;
        return fn(payload as EventPayloads[EventName], ctx as RpcContext);
      },
    },
    options,
    { schemaVersionOf: (name) => EVENT_SCHEMA_VERSIONS[name as EventName] ?? 1 },
  );
  return Object.assign(handler, { routes });
}
