/**
 * The journal of a bulk redrive: one JSON line per step, appended as it happens, so a run stopped by
 * Ctrl-C or `kill -9` can be resumed (`event-router dlq resume <journal>`) or read to learn exactly
 * what moved. Lines: `start` (the frozen set: RPC, message ids, rate, who), `sent` (copies SQS
 * accepted), `deleted` (originals removed from the DLQ), `end` (the report).
 *
 * A message is moved when its `deleted` line is written. One whose `sent` line exists without a
 * `deleted` line is only deleted on resume, never sent again. The one window left is a crash after SQS
 * accepted a copy and before its `sent` line: the resumed run sends a second copy, and the worker
 * acknowledges whichever runs second as a duplicate of the same dead letter (same DeadLetterId).
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface JournalStart {
  readonly rpc: string;
  readonly ids: readonly string[];
  readonly rate?: number;
  readonly who: string;
  readonly what: string;
  readonly at: string;
}

export class RedriveJournal {
  readonly sent = new Set<string>();
  readonly deleted = new Set<string>();
  ended = false;

  private constructor(
    readonly path: string,
    readonly start: JournalStart,
  ) {}

  /** Starts a new journal at `path` (its directory is created). */
  static create(path: string, start: JournalStart): RedriveJournal {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${JSON.stringify({ type: 'start', ...start })}\n`, { flag: 'wx' });
    return new RedriveJournal(path, start);
  }

  /** Reads a journal; a torn last line (the process died while writing it) is ignored. */
  static open(path: string): RedriveJournal {
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    const parsed = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as { type: string; ids?: string[] } & Record<string, unknown>];
      } catch {
        return [];
      }
    });
    const head = parsed[0];
    if (head?.type !== 'start' || typeof head.rpc !== 'string' || !Array.isArray(head.ids))
      throw new Error(`${path} is not a redrive journal (its first line is not a start record).`);
    const journal = new RedriveJournal(path, head as unknown as JournalStart);
    for (const entry of parsed.slice(1)) {
      if (entry.type === 'sent') for (const id of entry.ids ?? []) journal.sent.add(id);
      if (entry.type === 'deleted') for (const id of entry.ids ?? []) journal.deleted.add(id);
      if (entry.type === 'end') journal.ended = true;
    }
    return journal;
  }

  private append(entry: Record<string, unknown>): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`);
  }

  recordSent(ids: readonly string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.sent.add(id);
    this.append({ type: 'sent', ids });
  }

  recordDeleted(ids: readonly string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.deleted.add(id);
    this.append({ type: 'deleted', ids });
  }

  recordEnd(report: object): void {
    this.ended = true;
    this.append({ type: 'end', at: new Date().toISOString(), ...report });
  }
}
