/**
 * How one SQS record ended: the one vocabulary the worker logs (one line per record, with its
 * `messageId`) and the local runtime reads back to show each delivery for what it was.
 *
 * Pure types and functions: imported by the worker and by lib/local, so neither keeps a copy.
 */

/**
 * - `completed`: the RPC ran and COMPLETED is recorded; acknowledged.
 * - `duplicate`: the delivery was already handled (COMPLETED, or DEAD: waiting for an operator);
 *   acknowledged without running. `duplicateOf` says which.
 * - `in-progress-elsewhere`: another worker holds a live claim; back to the queue until it expires.
 * - `rescheduled`: the delivery waits out its backoff (a FAILED delivery's next attempt is later);
 *   back to the queue until then, not run early.
 * - `failed`: the run failed and may be retried, or the worker could not finish; back to the queue.
 * - `dead-lettered`: sent to the DLQ with its reason and acknowledged.
 */
export const RECORD_OUTCOMES = [
  'completed',
  'duplicate',
  'in-progress-elsewhere',
  'rescheduled',
  'failed',
  'dead-lettered',
] as const;

export type RecordOutcome = (typeof RECORD_OUTCOMES)[number];

/** What a duplicate duplicated: a completed delivery, or one that went to the DLQ. */
export type DuplicateOf = 'completed' | 'dead-lettered';

/** What the worker says about one record, on its outcome log line (besides `messageId`). */
export interface RecordReport {
  readonly outcome: RecordOutcome;
  /** The error's name when dead-lettered or failed. */
  readonly errorType?: string;
  readonly errorMessage?: string;
  /** The bounded stack of the error the RPC threw (stack.ts), when failed or dead-lettered by it. */
  readonly errorStack?: string;
  /** The delivery's attempt (handler runs started, kept across redrives), once claimed. */
  readonly attempt?: number;
  /** For `duplicate`. */
  readonly duplicateOf?: DuplicateOf;
  /** For `rescheduled`, `failed`, `in-progress-elsewhere`: seconds until the record is received again. */
  readonly retryInSeconds?: number;
  /**
   * True when the record went back to the queue as a new message (its own receive count was used
   * up, so SQS would have moved it to the DLQ): acknowledged, though the delivery goes on.
   */
  readonly requeued?: boolean;
}

const OUTCOMES: ReadonlySet<string> = new Set(RECORD_OUTCOMES);

/** True for outcomes whose record goes back to the queue (reported in `batchItemFailures`). */
export function returnsToQueue(report: Pick<RecordReport, 'outcome' | 'requeued'>): boolean {
  if (report.requeued) return false;
  return (
    report.outcome === 'in-progress-elsewhere' ||
    report.outcome === 'rescheduled' ||
    report.outcome === 'failed'
  );
}

export function isRecordOutcome(value: unknown): value is RecordOutcome {
  return typeof value === 'string' && OUTCOMES.has(value);
}

/**
 * Reads a worker log line (parsed JSON) that says how a record ended: its `messageId` and report,
 * or undefined for any other line.
 */
export function readOutcomeLine(line: unknown): { messageId: string; report: RecordReport } | undefined {
  if (typeof line !== 'object' || line === null) return undefined;
  const l = line as Record<string, unknown>;
  if (typeof l.messageId !== 'string' || !isRecordOutcome(l.outcome)) return undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const errorType = text(l.errorType) ?? text(l.errorName);
  const errorMessage = text(l.errorMessage);
  const errorStack = text(l.errorStack);
  const duplicateOf =
    l.duplicateOf === 'completed' || l.duplicateOf === 'dead-lettered' ? l.duplicateOf : undefined;
  const report: RecordReport = {
    outcome: l.outcome,
    ...(errorType ? { errorType } : {}),
    ...(errorMessage ? { errorMessage } : {}),
    ...(errorStack ? { errorStack } : {}),
    ...(Number.isInteger(l.attempt) && (l.attempt as number) > 0 ? { attempt: l.attempt as number } : {}),
    ...(duplicateOf ? { duplicateOf } : {}),
    ...(typeof l.retryInSeconds === 'number' ? { retryInSeconds: l.retryInSeconds } : {}),
    ...(l.requeued === true ? { requeued: true } : {}),
  };
  return { messageId: l.messageId, report };
}
