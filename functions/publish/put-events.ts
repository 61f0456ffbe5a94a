/**
 * Sending entries to EventBridge reliably: chunks of at most 10 entries (and 1 MB), FailedEntryCount
 * checked on every answer, and only the failed entries retried, with exponential backoff, when their
 * error code says a retry can succeed. Every entry ends with its own outcome: nothing is hidden.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { mapWithConcurrency } from '../commons/concurrency.ts';
import { entrySize } from './envelope.ts';
import { PUT_EVENTS_MAX_BYTES, PUT_EVENTS_MAX_ENTRIES } from './limits.ts';

/** What happened to one entry. */
export type SendOutcome =
  | { readonly ok: true; readonly attempts: number }
  | {
      readonly ok: false;
      readonly attempts: number;
      readonly errorCode: string;
      readonly errorMessage: string;
      /** True when a later retry of the whole request may succeed (throttling, internal failure). */
      readonly retryable: boolean;
    };

export interface SendOptions {
  /** Sends per entry, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** Delay before the first retry; doubles each time, with jitter. @default 100 */
  readonly baseDelayMs?: number;
  /** PutEvents calls in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Waits between attempts (tests pass an instant one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Entry error codes that no retry can fix (the entry or the caller's rights are wrong). */
const PERMANENT_CODES = new Set([
  'MalformedDetail',
  'InvalidArgument',
  'ValidationException',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
  'ResourceNotFoundException',
]);

/** True when an entry that failed with `code` may succeed when sent again. */
export function isRetryableCode(code: string): boolean {
  return !PERMANENT_CODES.has(code);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Splits entry indexes into PutEvents calls of at most 10 entries and 1 MB. */
export function chunkEntries(
  entries: readonly PutEventsRequestEntry[],
  indexes: readonly number[],
): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const index of indexes) {
    const entry = entries[index];
    if (!entry) continue;
    const size = entrySize(entry);
    if (
      current.length === PUT_EVENTS_MAX_ENTRIES ||
      (current.length > 0 && bytes + size > PUT_EVENTS_MAX_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Sends every entry; the outcome at index i belongs to entry i. Never throws for an AWS error: a call
 * that fails as a whole (after the SDK's own retries) fails each of its entries with the error's name.
 */
export async function sendEntries(
  client: EventBridgeClient,
  entries: readonly PutEventsRequestEntry[],
  options: SendOptions = {},
): Promise<SendOutcome[]> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? defaultSleep;
  const outcomes: SendOutcome[] = entries.map(() => ({
    ok: false,
    attempts: 0,
    errorCode: 'NotSent',
    errorMessage: 'The entry was not sent.',
    retryable: true,
  }));
  let pending = entries.map((_, i) => i);
  for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt++) {
    if (attempt > 1) {
      const cap = baseDelayMs * 2 ** (attempt - 2);
      await sleep(cap / 2 + Math.random() * (cap / 2));
    }
    const retry: number[] = [];
    await mapWithConcurrency(chunkEntries(entries, pending), options.concurrency ?? 4, async (chunk) => {
      retry.push(...(await sendChunk(client, entries, chunk, attempt, outcomes)));
    });
    pending = retry.sort((a, b) => a - b);
  }
  return outcomes;
}

/** One PutEvents call; records outcomes and returns the indexes worth retrying. */
async function sendChunk(
  client: EventBridgeClient,
  entries: readonly PutEventsRequestEntry[],
  chunk: readonly number[],
  attempt: number,
  outcomes: SendOutcome[],
): Promise<number[]> {
  try {
    const response = await client.send(
      new PutEventsCommand({ Entries: chunk.map((index) => entries[index] as PutEventsRequestEntry) }),
    );
    const results = response.Entries ?? [];
    const retry: number[] = [];
    chunk.forEach((index, position) => {
      const result = results[position];
      const failedCount = response.FailedEntryCount ?? 0;
      if (result?.ErrorCode || (!result?.EventId && failedCount > 0) || !result) {
        const errorCode = result?.ErrorCode ?? 'MissingResult';
        const retryable = isRetryableCode(errorCode);
        outcomes[index] = {
          ok: false,
          attempts: attempt,
          errorCode,
          errorMessage: result?.ErrorMessage ?? 'EventBridge returned no result for this entry.',
          retryable,
        };
        if (retryable) retry.push(index);
      } else outcomes[index] = { ok: true, attempts: attempt };
    });
    return retry;
  } catch (error) {
    const err = error as Error & { $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
    const status = err.$metadata?.httpStatusCode;
    // The SDK already retried throttling and 5xx answers; another round may still help, a 4xx will not.
    const retryable = status === undefined || status >= 500 || status === 429 || err.name.includes('Throttl');
    for (const index of chunk)
      outcomes[index] = {
        ok: false,
        attempts: attempt,
        errorCode: err.name,
        errorMessage: err.message,
        retryable,
      };
    return retryable ? [...chunk] : [];
  }
}
