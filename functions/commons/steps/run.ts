/**
 * Step "run": runs the claimed delivery's RPC (a handler function or a remote call) with its
 * context, and reports what happened without deciding what it means for the delivery.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { createPublisher } from '../../../common/publish.ts';
import type { DeliveryContext } from '../context.ts';
import { type ErrorSummary, summarizeError } from '../errors.ts';
import type { Delivery } from '../message.ts';
import type { WorkerScope } from '../scope.ts';

export type Ran =
  | { readonly ok: true; readonly result: unknown; readonly durationMs: number }
  | { readonly ok: false; readonly error: ErrorSummary; readonly durationMs: number };

export async function run(
  scope: WorkerScope,
  delivery: Delivery,
  attempt: number,
  context: Context,
  log: Logger,
): Promise<Ran> {
  const { config, deps, runner } = scope;
  const ctx: DeliveryContext = {
    rpc: config.rpc,
    eventId: delivery.eventId,
    eventName: delivery.eventName,
    occurredAt: delivery.occurredAt,
    attempt,
    correlationId: delivery.correlationId,
    causationId: delivery.causationId,
    logger: log,
    publish: createPublisher(
      { eventId: delivery.eventId, correlationId: delivery.correlationId, rpc: config.rpc, app: config.app },
      {
        bus: deps.eventBus,
        busName: config.eventBus,
        now: deps.now,
        sleep: deps.sleep,
        schemaVersionOf: deps.schemaVersionOf ?? (() => 1),
      },
    ),
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
  };
  log.debug('Running handler', { payload: delivery.payload });
  const started = deps.now();
  try {
    const result = await runner.run(delivery.payload, ctx, config);
    return { ok: true, result, durationMs: deps.now() - started };
  } catch (error) {
    return { ok: false, error: summarizeError(error, true), durationMs: deps.now() - started };
  }
}
