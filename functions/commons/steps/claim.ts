/**
 * Step "claim": takes the delivery (eventId + rpc) for this worker with one conditional write, or
 * ends the record when the delivery may not run now:
 * - completed, or dead-lettered (waiting for an operator): a duplicate, acknowledged;
 * - another worker holds a live claim: back to the queue until that claim expires;
 * - FAILED and waiting out its backoff: back to the queue until its next allowed attempt;
 * - claimed before with another payload: dead-lettered as `IdempotencyConflict`;
 * - its budget spent without a recorded end (its worker died in the last allowed run), or a dead
 *   letter that could not be sent: dead-lettered now, without running.
 * Retries are counted per delivery: a redrive (`DeadLetterId`) or an operator re-run (`RerunId`)
 * starts a fresh budget of `maxReceiveCount` runs.
 */
import type { Context } from 'aws-lambda';
import type { ClaimOutcome } from '../deliveries.ts';
import type { Delivery } from '../message.ts';
import { payloadHash } from '../message.ts';
import { type Received, type Settled, settle, type WorkerScope } from '../scope.ts';
import { returnToQueue } from './back-off.ts';
import { conflictReason, deadLetter } from './dead-letter.ts';

/** Shortest claim a worker takes, even when its invocation is about to end. */
const LOCK_FLOOR_MS = 1000;

export type Claimed = Extract<ClaimOutcome, { kind: 'claimed' }>;

export async function claim(
  scope: WorkerScope,
  received: Received,
  delivery: Delivery,
  context: Context,
): Promise<Claimed | Settled> {
  const { config, store, deps, options } = scope;
  const key = { eventId: delivery.eventId, rpc: config.rpc };
  const outcome = await store.claim(key, {
    eventName: delivery.eventName,
    correlationId: delivery.correlationId,
    ...(delivery.causationId ? { causationId: delivery.causationId } : {}),
    now: deps.now(),
    lockMs: Math.max(context.getRemainingTimeInMillis(), LOCK_FLOOR_MS),
    payloadHash: payloadHash(delivery.payload),
    maxRuns: config.maxReceiveCount,
    ...(received.deadLetterId ? { deadLetterId: received.deadLetterId } : {}),
    ...(received.rerunId ? { rerunId: received.rerunId } : {}),
  });
  const address = { rpc: config.rpc, eventId: delivery.eventId };
  switch (outcome.kind) {
    case 'claimed':
      return outcome;
    case 'completed':
      return settle('duplicate', 'Duplicate acknowledged without running: the delivery already completed', {
        duplicateOf: 'completed',
        details: { attempts: outcome.attempts },
      });
    case 'dead':
      return settle(
        'duplicate',
        'Duplicate acknowledged without running: the delivery was dead-lettered; redrive its dead letter to run it again',
        { duplicateOf: 'dead-lettered', details: { attempts: outcome.attempts } },
      );
    case 'busy': {
      const untilFree = outcome.lockExpiresAt === undefined ? 0 : (outcome.lockExpiresAt - deps.now()) / 1000;
      const seconds = Math.max(1, Math.min(Math.ceil(untilFree), options.backoff.maxSeconds));
      const back = await returnToQueue(scope, received, seconds);
      return settle('in-progress-elsewhere', 'Delivery is being handled by another worker; retrying later', {
        retryInSeconds: seconds,
        ...(back.requeued ? { requeued: true } : {}),
        ...(back.problem ? { details: { problem: back.problem } } : {}),
      });
    }
    case 'waiting': {
      const seconds = Math.max(1, Math.ceil((outcome.retryAt - deps.now()) / 1000));
      const back = await returnToQueue(scope, received, seconds);
      return settle(
        'rescheduled',
        'Delivery waits out its backoff; rescheduled to its next attempt, not run early',
        {
          retryInSeconds: seconds,
          ...(back.requeued ? { requeued: true } : {}),
          ...(back.problem ? { details: { problem: back.problem } } : {}),
        },
      );
    }
    case 'conflict':
      return deadLetter(scope, received, {
        reason: conflictReason(delivery.eventId, config.rpc),
        address,
        attempts: outcome.attempts,
      });
    case 'exhausted':
      return deadLetter(scope, received, {
        reason: outcome.error ?? {
          name: 'AttemptsExhausted',
          message:
            `The delivery's worker stopped during its last allowed run (${config.maxReceiveCount} of ` +
            `${config.maxReceiveCount}) without recording how it ended (timeout or crash).`,
          retryable: false,
        },
        address,
        attempts: outcome.attempts,
        own: { delivery, fence: { kind: 'seen', ...outcome.seen } },
      });
  }
}
