/**
 * Step "record": writes how a run ended, one conditional write fenced by the claim's attempt:
 * COMPLETED with the result; or, after a failure, DEAD through the dead-letter step (a
 * non-retryable error, or the last run of the delivery's budget), or FAILED with the next allowed
 * attempt and the message sent back to the queue until then (back off).
 */
import { backoffSeconds } from '../backoff.ts';
import type { Delivery } from '../message.ts';
import { boundedResult } from '../result.ts';
import { type Received, type Settled, settle, type WorkerScope } from '../scope.ts';
import { returnToQueue } from './back-off.ts';
import type { Claimed } from './claim.ts';
import { deadLetter } from './dead-letter.ts';
import type { Ran } from './run.ts';

/** Seconds before the next attempt after the `run`-th run failed (the local runtime may fix it). */
export function retryDelayFor(scope: WorkerScope, run: number): number {
  return scope.config.retryDelaySeconds ?? backoffSeconds(run, scope.options.backoff);
}

export async function record(
  scope: WorkerScope,
  received: Received,
  delivery: Delivery,
  claimed: Claimed,
  ran: Ran,
): Promise<Settled> {
  const { config, store, deps, options } = scope;
  const key = { eventId: delivery.eventId, rpc: config.rpc };
  if (ran.ok) {
    const completed = await store.complete(
      key,
      claimed.attempt,
      boundedResult(ran.result, options.maxResultBytes),
      deps.now(),
      claimed.via === 'new',
    );
    if (!completed)
      return settle(
        'in-progress-elsewhere',
        'Handler finished after its claim expired and another worker took the delivery over',
        { level: 'warn', details: { durationMs: ran.durationMs } },
      );
    return settle('completed', 'Delivery completed', { details: { durationMs: ran.durationMs } });
  }

  const { error } = ran;
  const lastRun = claimed.run >= config.maxReceiveCount;
  if (!error.retryable || lastRun) {
    const reason = error.retryable
      ? { ...error, message: `${error.message} (attempt ${claimed.run} of ${config.maxReceiveCount})` }
      : error;
    return deadLetter(scope, received, {
      reason,
      address: { rpc: config.rpc, eventId: delivery.eventId },
      attempts: claimed.attempt,
      own: { delivery, fence: { kind: 'claim', attempt: claimed.attempt } },
    });
  }
  const seconds = retryDelayFor(scope, claimed.run);
  const now = deps.now();
  const recorded = await store.fail(key, claimed.attempt, error, now, now + seconds * 1000);
  const back = await returnToQueue(scope, received, seconds);
  return settle('failed', 'Handler failed; the delivery will be retried', {
    errorType: error.name,
    errorMessage: error.message,
    ...(error.stack ? { errorStack: error.stack } : {}),
    retryInSeconds: seconds,
    ...(back.requeued ? { requeued: true } : {}),
    details: {
      durationMs: ran.durationMs,
      ...(recorded ? {} : { claimLost: true }),
      ...(back.problem ? { problem: back.problem } : {}),
    },
  });
}
