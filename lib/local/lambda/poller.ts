/**
 * The poller of one event source mapping: receives batches from its queue (batch size, batching
 * window), invokes the function with up to `maximumConcurrency` batches at once, deletes what
 * succeeded (all of a batch, or all but the reported `batchItemFailures`), and leaves failures to
 * reappear after the visibility timeout (or after `retryDelaySeconds` when set for local dev).
 */

import { type RecordOutcome, type RecordReport, returnsToQueue } from '../../../functions/commons/outcome.ts';
import type { EventSourceMappingDefinition } from '../assembly/model.ts';
import { type Clock, realClock } from '../clock.ts';
import type { Message, Queue } from '../services/sqs/queue.ts';
import type { FunctionRunner, InvokeOutcome } from './runner.ts';
import { describeMessage, sqsRecord } from './sqs-event.ts';

/** Error name of invocations cut short because the runtime is stopping. */
export const STOPPED = 'Runtime.Stopped';

/**
 * How a delivery ended. For the event-router worker, which says how each record ended, its
 * {@link RecordOutcome} as it said it (`completed` shown as `ok`); for any function, `ok`
 * (acknowledged), `failed` (back to the queue), `timeout` or `crash` (the invocation failed).
 */
export type DeliveryOutcome = 'ok' | Exclude<RecordOutcome, 'completed'> | 'timeout' | 'crash';

/** One line of the delivery log. */
export interface DeliveryLog {
  readonly functionName: string;
  readonly rpc: string;
  readonly eventName: string;
  readonly eventId: string;
  readonly messageId: string;
  readonly outcome: DeliveryOutcome;
  /** The message's SQS receive count (starts again at 1 for a redriven message). */
  readonly attempt: number;
  /**
   * The delivery's attempt as the event-router worker counts it (its stored handler runs, which a
   * redrive keeps), when its log line said; absent for other functions and before a claim.
   */
  readonly workerAttempt?: number;
  readonly ms: number;
  readonly error?: string;
  /** Name of the error a `dead-lettered` (or failed) delivery was sent away with, when the worker said. */
  readonly errorType?: string;
  /** The bounded stack of the error the RPC threw (functions/commons/stack.ts), when the worker said. */
  readonly stack?: string;
  /** For a `duplicate`: what it duplicated, when the worker said. */
  readonly duplicateOf?: RecordReport['duplicateOf'];
  /** Seconds until a record sent back to the queue is received again, when the worker said. */
  readonly retryInSeconds?: number;
}

export interface PollerOptions {
  readonly region: string;
  /** Seconds until a failed message is retried; undefined keeps the queue's visibility timeout (as AWS). */
  readonly retryDelaySeconds?: number;
  readonly onDelivery: (log: DeliveryLog) => void;
  /** The time the batching window is measured on. @default realClock */
  readonly clock?: Clock;
}

/** Reads `batchItemFailures`; undefined when the response is malformed (the whole batch then fails). */
export function failedIds(result: unknown, batch: readonly Message[]): Set<string> | undefined {
  if (result === null || result === undefined) return new Set();
  if (typeof result !== 'object') return new Set();
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return undefined;
  const ids = new Set(batch.map((m) => m.id));
  const out = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return undefined;
    out.add(id);
  }
  return out;
}

interface Received {
  readonly message: Message;
  /** Receipt handle of this receive (a later receive of the same message gets another). */
  readonly handle: string;
}

export class SqsPoller {
  private running = false;
  private abort = new AbortController();
  private workers: Promise<void>[] = [];

  constructor(
    readonly mapping: EventSourceMappingDefinition,
    private readonly queue: Queue,
    private readonly runner: FunctionRunner,
    private readonly options: PollerOptions,
  ) {}

  start(): void {
    if (this.running || !this.mapping.enabled) return;
    this.running = true;
    this.abort = new AbortController();
    const n = Math.max(1, this.mapping.maximumConcurrency);
    this.workers = Array.from({ length: n }, () => this.work());
  }

  /** Stops taking batches; `stop()` then waits for the ones being handled. */
  halt(): void {
    this.running = false;
    this.abort.abort();
  }

  /** Stops polling and waits for the batches being handled. */
  async stop(): Promise<void> {
    this.halt();
    await Promise.all(this.workers);
    this.workers = [];
  }

  private take(max: number): Received[] {
    return this.queue.receive(max).map((message) => ({ message, handle: this.queue.receiptHandle(message) }));
  }

  private async collect(): Promise<Received[]> {
    const { batchSize, batchingWindowSeconds } = this.mapping;
    const signal = this.abort.signal;
    const batch: Received[] = [];
    while (this.running && batch.length === 0) {
      batch.push(...this.take(batchSize));
      if (batch.length === 0) await this.queue.waitForMessages(20_000, signal);
    }
    if (batchingWindowSeconds > 0) {
      const clock = this.options.clock ?? realClock;
      const until = clock.now() + batchingWindowSeconds * 1000;
      while (this.running && batch.length < batchSize) {
        const left = until - clock.now();
        if (left <= 0) break;
        batch.push(...this.take(batchSize - batch.length));
        if (batch.length < batchSize) await this.queue.waitForMessages(left, signal);
      }
    }
    return batch;
  }

  private async work(): Promise<void> {
    while (this.running) {
      let batch: Received[];
      try {
        batch = await this.collect();
      } catch {
        continue;
      }
      if (batch.length === 0) continue;
      const outcome = await this.runner.invoke({
        Records: batch.map((r) => sqsRecord(this.queue, r.message, r.handle, this.options.region)),
      });
      this.settle(batch, outcome);
    }
  }

  private settle(batch: readonly Received[], outcome: InvokeOutcome): void {
    const all = () => new Set(batch.map((r) => r.message.id));
    let failed: Set<string>;
    if (!outcome.ok) failed = all();
    else if (this.mapping.reportBatchItemFailures)
      failed =
        failedIds(
          outcome.result,
          batch.map((r) => r.message),
        ) ?? all();
    else failed = new Set();
    const fallbackRpc = this.runner.definition.environment.ER_RPC ?? this.runner.definition.name;
    if (outcome.error?.name === STOPPED) {
      // The runtime is stopping: the batch was not handled, so it is made visible again at once.
      for (const { handle } of batch) {
        try {
          this.queue.changeVisibility(handle, 0);
        } catch {
          // Already deleted or received again.
        }
      }
      return;
    }
    for (const { message, handle } of batch) {
      const isFailed = failed.has(message.id);
      const report = outcome.ok ? outcome.records?.[message.id] : undefined;
      if (!isFailed) this.queue.deleteByReceipt(handle);
      // The event-router worker sets the visibility itself (it is told the retry delay).
      else if (this.options.retryDelaySeconds !== undefined && report === undefined) {
        try {
          this.queue.changeVisibility(handle, this.options.retryDelaySeconds);
        } catch {
          // Deleted or received again meanwhile: nothing to shorten.
        }
      }
      const what = describeMessage(message.body, fallbackRpc);
      const ended: RecordEnd = outcome.ok
        ? recordEnd(isFailed, report)
        : {
            outcome: outcome.failure ?? 'failed',
            error: `${outcome.error?.name ?? 'Error'}: ${outcome.error?.message ?? ''}`,
          };
      const workerAttempt = outcome.ok ? outcome.records?.[message.id]?.attempt : undefined;
      this.options.onDelivery({
        functionName: this.runner.definition.name,
        ...what,
        messageId: message.id,
        attempt: message.receiveCount,
        ...(workerAttempt === undefined ? {} : { workerAttempt }),
        ms: outcome.durationMs,
        ...ended,
      });
    }
  }
}

type RecordEnd = Pick<
  DeliveryLog,
  'outcome' | 'error' | 'errorType' | 'stack' | 'duplicateOf' | 'retryInSeconds'
>;

/**
 * How one record of a successful invocation ended: what the worker said about it, when what it said
 * agrees with the batch response; otherwise from the batch response alone.
 */
function recordEnd(isFailed: boolean, report: RecordReport | undefined): RecordEnd {
  if (report && returnsToQueue(report) === isFailed) {
    const because = report.errorType
      ? `${report.errorType}${report.errorMessage ? `: ${report.errorMessage}` : ''}`
      : undefined;
    return {
      outcome: report.outcome === 'completed' ? 'ok' : report.outcome,
      ...(report.outcome === 'dead-lettered' && report.errorMessage ? { error: report.errorMessage } : {}),
      ...(report.outcome === 'failed' ? { error: because ?? 'reported in batchItemFailures' } : {}),
      ...(report.errorType && report.outcome !== 'completed' ? { errorType: report.errorType } : {}),
      ...(report.errorStack && report.outcome !== 'completed' ? { stack: report.errorStack } : {}),
      ...(report.duplicateOf ? { duplicateOf: report.duplicateOf } : {}),
      ...(report.retryInSeconds !== undefined ? { retryInSeconds: report.retryInSeconds } : {}),
    };
  }
  return isFailed ? { outcome: 'failed', error: 'reported in batchItemFailures' } : { outcome: 'ok' };
}
