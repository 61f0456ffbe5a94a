/**
 * Step "dead-letter": sends a message that will not be run (again) to the RPC's DLQ with its reason
 * and a fresh `DeadLetterId`, then records DEAD with that id, then acknowledges it.
 *
 * The send comes first. If it fails, nothing says DEAD: after a claim the record is set FAILED with
 * the non-retryable reason, so the message's next receive dead-letters it without running the
 * handler again; a poison message is simply screened again. If the worker dies between the send and
 * the DEAD write, the message comes back and may be dead-lettered a second time (at least once, never
 * lost); once DEAD is written, a copy that comes back (a kill -9 before the batch's delete) is a
 * duplicate: a delivery lands in the DLQ once.
 */
import { randomUUID } from 'node:crypto';
import { sendToDeadLetterQueue } from '../dead-letters.ts';
import type { DeadFence, DeliveryKey } from '../deliveries.ts';
import type { ErrorSummary } from '../errors.ts';
import type { Delivery } from '../message.ts';
import { payloadHash } from '../message.ts';
import { type Received, type Settled, settle, type WorkerScope } from '../scope.ts';

export interface DeadLetterRequest {
  readonly reason: ErrorSummary;
  /** The RPC and event the message was addressed to (DLQ attributes). */
  readonly address: { readonly rpc: string; readonly eventId?: string };
  /** Handler runs started (the `Attempts` attribute). */
  readonly attempts: number;
  /** This worker's delivery, whose record says DEAD once the letter is sent; absent: no record is written. */
  readonly own?: { readonly delivery: Delivery; readonly fence: DeadFence };
}

/** Why a message whose payload differs from the one its delivery was claimed with is dead-lettered. */
export function conflictReason(eventId: string, rpc: string, also?: string): ErrorSummary {
  return {
    name: 'IdempotencyConflict',
    message:
      `Delivery ${eventId} of ${rpc} was claimed with another payload; a message with the same eventId and a ` +
      'different payload is a conflict, not a duplicate (the publisher reused an idempotency key).' +
      (also ? ` This payload is also rejected: ${also}` : ''),
    retryable: false,
  };
}

export async function deadLetter(
  scope: WorkerScope,
  received: Received,
  request: DeadLetterRequest,
): Promise<Settled> {
  const { config, store, deps } = scope;
  const { own } = request;
  const key: DeliveryKey | undefined = own ? { eventId: own.delivery.eventId, rpc: config.rpc } : undefined;

  // Poison without a claim: a copy of a delivery already dead-lettered (or completed) is a duplicate.
  let writeRecord = own !== undefined;
  let reason = request.reason;
  if (own && key && own.fence.kind === 'unclaimed') {
    const existing = await store.get(key);
    const fence = own.fence;
    if (
      existing?.payloadHash !== undefined &&
      existing.payloadHash !== payloadHash(own.delivery.payload) &&
      !fence.rerunId
    ) {
      // Another payload's delivery: a conflict, and not this message's record to mark.
      writeRecord = false;
      reason = conflictReason(own.delivery.eventId, config.rpc, reason.message);
    } else if (existing?.status === 'COMPLETED' && !(fence.rerunId && existing.rerunId !== fence.rerunId))
      return settle('duplicate', 'Duplicate acknowledged without running: the delivery already completed', {
        duplicateOf: 'completed',
      });
    else if (
      existing?.status === 'DEAD' &&
      !(fence.redriveOf && existing.deadLetterId === fence.redriveOf) &&
      !(fence.rerunId && existing.rerunId !== fence.rerunId)
    )
      return settle(
        'duplicate',
        'Duplicate acknowledged: the delivery was dead-lettered already; redrive it to run again',
        {
          duplicateOf: 'dead-lettered',
        },
      );
  }

  const deadLetterId = randomUUID();
  try {
    await sendToDeadLetterQueue(deps.queue, config.dlqUrl, {
      body: received.record.body,
      error: reason,
      rpc: request.address.rpc,
      eventId: request.address.eventId,
      attempts: request.attempts,
      failedAt: deps.now(),
      deadLetterId,
    });
  } catch (sendError) {
    if (own && key && own.fence.kind === 'claim') {
      // The handler must not run again for this: the next receive dead-letters it straight away.
      const now = deps.now();
      await store.fail(key, own.fence.attempt, { ...reason, retryable: false }, now, now);
    }
    return settle(
      'failed',
      'Could not dead-letter the delivery; it returns to the queue and is sent on its next receive',
      {
        level: 'error',
        errorType: reason.name,
        errorMessage: reason.message,
        details: { sendError: String(sendError) },
      },
    );
  }

  if (own && key && writeRecord) {
    const written = await store.markDead(key, {
      error: reason,
      now: deps.now(),
      deadLetterId,
      fence: own.fence,
      eventName: own.delivery.eventName,
      correlationId: own.delivery.correlationId,
      ...(own.delivery.causationId ? { causationId: own.delivery.causationId } : {}),
    });
    if (written !== 'dead')
      return settle('dead-lettered', 'Delivery sent to the DLQ, but its record had changed meanwhile', {
        errorType: reason.name,
        errorMessage: reason.message,
        ...(reason.stack ? { errorStack: reason.stack } : {}),
        details: { record: written, deadLetterId },
      });
  }
  return settle('dead-lettered', 'Delivery sent to the DLQ', {
    errorType: reason.name,
    errorMessage: reason.message,
    ...(reason.stack ? { errorStack: reason.stack } : {}),
    details: { deadLetterId },
  });
}
