/**
 * `defineRpc`: the typed way to write an RPC handler module. The exported value is the complete
 * worker Lambda handler for the RPC's SQS queue.
 *
 * The framework knows no app's events: {@link bindRpc} binds `defineRpc` to an app's event map (event
 * name -> payload type) and schema versions, as `createEventPublisher<M>` binds the publisher.
 * `event-router codegen` writes that binding into the app's `generated/rpc.ts`, which handler modules
 * import:
 *
 * @example One event
 * import { defineRpc } from '#generated/rpc.ts';
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
import type { DeliveryContext } from './context.ts';
import { createWorkerHandler, type WorkerHandler } from './handler.ts';
import type { WorkerOptions } from './worker.ts';

export { NonRetryableError } from './errors.ts';
export type { WorkerHandler } from './handler.ts';
export type { WorkerOptions } from './worker.ts';

/** The event names of event map `M`. */
export type EventNameOf<M> = keyof M & string;

/** The context of a handler run for event `E` of event map `M`. */
export interface RpcContext<M, E extends EventNameOf<M> = EventNameOf<M>>
  extends Omit<DeliveryContext, 'eventName' | 'publish'> {
  readonly eventName: E;
  /**
   * Publishes follow-up event `name` (listed under `publishes:` of this RPC) and resolves to its
   * eventId; the id is the same when this delivery is re-run, so a retry does not duplicate it.
   */
  publish<N extends EventNameOf<M>>(name: N, payload: M[N]): Promise<string>;
}

/** The function that handles one event. Its return value (JSON) is recorded with the delivery. */
export type RpcFunction<M, E extends EventNameOf<M>> = (payload: M[E], ctx: RpcContext<M, E>) => unknown;

/** One function per event an RPC receives. Unknown event names do not compile. */
export type RpcRoutes<M> = { readonly [E in EventNameOf<M>]?: RpcFunction<M, E> };

/** A worker handler defined with `defineRpc`; `routes` lets tests and benchmarks call the functions directly. */
export interface RpcHandler<M> extends WorkerHandler {
  readonly routes: RpcRoutes<M>;
}

/** `defineRpc` bound to event map `M`. */
export interface DefineRpc<M> {
  /** Defines an RPC that receives one event. */
  <E extends EventNameOf<M>>(eventName: E, fn: RpcFunction<M, E>, options?: WorkerOptions): RpcHandler<M>;
  /** Defines an RPC that receives several events, with one function per event. */
  (routes: RpcRoutes<M>, options?: WorkerOptions): RpcHandler<M>;
}

/** What a binding knows of the app's events. */
export interface RpcBinding {
  /**
   * Event name -> schema version, for follow-ups published where no published-schema catalog is compiled
   * into the bundle (tests). @default every event at version 1
   */
  readonly schemaVersions?: Readonly<Record<string, number>>;
}

type AnyFunction = (payload: unknown, ctx: unknown) => unknown;

/** `defineRpc` typed by event map `M` (the app's `EventPayloads`), with the app's schema versions. */
export function bindRpc<M>(binding: RpcBinding = {}): DefineRpc<M> {
  const versions = binding.schemaVersions ?? {};
  function defineRpc(
    first: string | Readonly<Record<string, AnyFunction | undefined>>,
    second?: AnyFunction | WorkerOptions,
    third?: WorkerOptions,
  ): RpcHandler<M> {
    const routes: Readonly<Record<string, AnyFunction | undefined>> =
      typeof first === 'string' ? { [first]: second as AnyFunction } : first;
    const options = (typeof first === 'string' ? third : (second as WorkerOptions | undefined)) ?? {};
    const names = Object.keys(routes);
    if (names.length === 0 || names.some((name) => typeof routes[name] !== 'function'))
      throw new Error(
        'defineRpc needs an event name and a function, or an object mapping each event name to a function; ' +
          `got ${names.length === 0 ? 'no events' : `a non-function for ${names.join(', ')}`}.`,
      );
    const handler = createWorkerHandler(
      {
        handles: (eventName) => Object.hasOwn(routes, eventName),
        run: async (payload, ctx) => (routes[ctx.eventName] as AnyFunction)(payload, ctx),
      },
      options,
      { schemaVersionOf: (name) => versions[name] ?? 1 },
    );
    return Object.assign(handler, { routes: routes as RpcRoutes<M> });
  }
  return defineRpc as DefineRpc<M>;
}

/**
 * `defineRpc` bound to no app: any event name, payloads `unknown`, schema version 1. An app's handlers use
 * the binding codegen writes (`generated/rpc.ts`), which types each payload by its event.
 */
export const defineRpc: DefineRpc<Record<string, unknown>> = /* @__PURE__ */ bindRpc();
