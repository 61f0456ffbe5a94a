/**
 * Sends a message that can never be handled to the RPC's DLQ, with the reason as message attributes
 * (names in `DLQ_ATTRIBUTES`), so ops can see why without opening the body, and a `DeadLetterId`
 * that lets the worker tell a redrive of this letter from a stale copy of the message.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { DLQ_ATTRIBUTES } from '../../common/contracts.ts';
import type { QueuePort } from '../../common/ports.ts';
import { MAX_STACK_CHARS, sanitizeAttribute } from '../../common/stack.ts';
import type { ErrorSummary } from './errors.ts';

/** SQS limits a message attribute value to the message size; keep reasons short. */
const MAX_ATTRIBUTE_CHARS = 1000;

export interface DeadLetter {
  /** The original message body, unchanged, so a redrive delivers exactly what was received. */
  readonly body: string;
  readonly error: ErrorSummary;
  /** The RPC the message was addressed to (or this worker's, when unknown). */
  readonly rpc: string;
  /** Undefined when the body carried none. */
  readonly eventId?: string;
  /** Handler runs started (0 when rejected before running). */
  readonly attempts: number;
  /** Epoch ms. */
  readonly failedAt: number;
  /** A fresh UUID, also stored on the DEAD record: a redrive carrying it may run the delivery again. */
  readonly deadLetterId: string;
}

/** A String attribute, cut to `max` characters, without the control characters SQS refuses. */
function text(value: string, max = MAX_ATTRIBUTE_CHARS): MessageAttributeValue {
  return { DataType: 'String', StringValue: sanitizeAttribute(value.slice(0, max)) || '-' };
}

/** The SendMessage attributes of a dead letter. */
export function deadLetterAttributes(letter: DeadLetter): Record<string, MessageAttributeValue> {
  return {
    [DLQ_ATTRIBUTES.errorType]: text(letter.error.name),
    [DLQ_ATTRIBUTES.errorMessage]: text(letter.error.message),
    [DLQ_ATTRIBUTES.rpc]: text(letter.rpc),
    ...(letter.eventId ? { [DLQ_ATTRIBUTES.eventId]: text(letter.eventId) } : {}),
    [DLQ_ATTRIBUTES.attempts]: { DataType: 'Number', StringValue: String(letter.attempts) },
    [DLQ_ATTRIBUTES.failedAt]: text(new Date(letter.failedAt).toISOString()),
    [DLQ_ATTRIBUTES.deadLetterId]: text(letter.deadLetterId),
    ...(letter.error.stack ? { [DLQ_ATTRIBUTES.errorStack]: text(letter.error.stack, MAX_STACK_CHARS) } : {}),
  };
}

/** Sends `letter` to the DLQ at `dlqUrl`. The caller acknowledges the original message once this resolves. */
export async function sendToDeadLetterQueue(
  queue: QueuePort,
  dlqUrl: string,
  letter: DeadLetter,
): Promise<void> {
  await queue.sendMessage({
    QueueUrl: dlqUrl,
    MessageBody: letter.body,
    MessageAttributes: deadLetterAttributes(letter),
  });
}
