/**
 * An append-only journal of JSON lines with group commit: records appended in the same tick are
 * written and fsync'ed together, and `appendDurable` resolves only once its record is on disk.
 * On open the journal is replayed; a torn last line (the process was killed mid-write) is ignored.
 * `compact` replaces the file with a snapshot of the live state at the next flush.
 *
 * Honest about the disk: when a write or an fdatasync fails, every `appendDurable` of that group
 * rejects with the error (its caller then answers a failure, never success), and so does every later
 * one until a write succeeds again. Writes are made in order (synchronously, to the page cache); only
 * the fdatasync runs in the background, and `close()` leaves the file open until an fdatasync in
 * flight has finished.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { fdatasyncOffPool } from './sync-thread.ts';

export type JournalRecord = Record<string, unknown>;

/** The file operations the journal makes on its open file; replaced only to inject disk failures. */
export interface JournalIo {
  writeSync(fd: number, data: string): void;
  fdatasync(fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void;
}

const NODE_IO: JournalIo = {
  writeSync: (fd, data) => {
    writeSync(fd, data);
  },
  // Off libuv's thread pool, which the local DynamoDB's LevelDB needs (see sync-thread.ts).
  fdatasync: fdatasyncOffPool,
};

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The error an `appendDurable` rejects with when its record may not be on disk. */
export class JournalWriteError extends Error {
  constructor(path: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`Could not write the local state journal ${path}: ${reason}`, { cause });
    this.name = 'JournalWriteError';
  }
}

export class Journal {
  readonly path: string;
  private fd: number;
  private pending: string[] = [];
  private waiters: Waiter[] = [];
  /** An fdatasync is running in the background. */
  private flushing = false;
  private readonly io: JournalIo;
  private scheduled = false;
  private snapshot: (() => Iterable<JournalRecord>) | undefined;
  private closed = false;
  /** Records written since the last compaction. */
  recordCount = 0;

  private constructor(path: string, fd: number, recordCount: number, io: JournalIo) {
    this.path = path;
    this.fd = fd;
    this.recordCount = recordCount;
    this.io = io;
  }

  /**
   * Opens (creating if needed) the journal at `path` and returns it with the records it holds.
   * `io` replaces the file writes, for tests that inject a failing disk.
   */
  static open(path: string, io: JournalIo = NODE_IO): { journal: Journal; records: JournalRecord[] } {
    const records: JournalRecord[] = [];
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      for (const line of text.split('\n')) {
        if (line.length === 0) continue;
        try {
          records.push(JSON.parse(line) as JournalRecord);
        } catch {
          // A line cut short by a kill: everything before it is intact, nothing after it was acknowledged.
        }
      }
    }
    const fd = openSync(path, 'a');
    return { journal: new Journal(path, fd, records.length, io), records };
  }

  /** Appends a record; it reaches disk with the next flush (soon, not awaited). */
  append(record: JournalRecord): void {
    if (this.closed) return;
    this.pending.push(`${JSON.stringify(record)}\n`);
    this.schedule();
  }

  /**
   * Appends a record and resolves once it is fsync'ed; rejects with a `JournalWriteError` when the
   * write or the fsync failed, or the journal is closed (the record may not be on disk).
   */
  appendDurable(record: JournalRecord): Promise<void> {
    if (this.closed)
      return Promise.reject(new JournalWriteError(this.path, new Error('the journal is closed')));
    this.pending.push(`${JSON.stringify(record)}\n`);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /**
   * Resolves once every record appended before the call (and a compaction asked for) is on disk;
   * rejects as `appendDurable` does. Tests wait on this instead of for time to pass.
   */
  flushed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.flushing && !this.scheduled && this.pending.length === 0 && !this.snapshot)
      return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Rewrites the journal as `snapshot()` (the live state) at the next flush. */
  compact(snapshot: () => Iterable<JournalRecord>): void {
    this.snapshot = snapshot;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed) return;
    const waiters = this.waiters;
    this.waiters = [];
    if (this.snapshot) {
      const snapshot = this.snapshot;
      this.snapshot = undefined;
      this.pending = [];
      let failure: JournalWriteError | undefined;
      try {
        this.rewrite(snapshot());
      } catch (error) {
        failure = new JournalWriteError(this.path, error);
      }
      settle(waiters, failure);
      return;
    }
    if (this.pending.length === 0) {
      settle(waiters);
      return;
    }
    const data = this.pending.join('');
    const count = this.pending.length;
    this.pending = [];
    try {
      this.io.writeSync(this.fd, data);
    } catch (error) {
      settle(waiters, new JournalWriteError(this.path, error));
      return;
    }
    this.recordCount += count;
    this.flushing = true;
    const fd = this.fd;
    this.io.fdatasync(fd, (syncError) => {
      this.flushing = false;
      settle(waiters, syncError ? new JournalWriteError(this.path, syncError) : undefined);
      // A compaction or close() while this ran left the closing of this descriptor to us.
      if (fd !== this.fd || this.closed) closeSync(fd);
      else if (this.pending.length > 0 || this.snapshot || this.waiters.length > 0) this.schedule();
    });
  }

  private rewrite(records: Iterable<JournalRecord>): void {
    const tmp = `${this.path}.compact`;
    const fd = openSync(tmp, 'w');
    let count = 0;
    let chunk: string[] = [];
    for (const record of records) {
      chunk.push(`${JSON.stringify(record)}\n`);
      count++;
      if (chunk.length >= 1000) {
        writeSync(fd, chunk.join(''));
        chunk = [];
      }
    }
    if (chunk.length > 0) writeSync(fd, chunk.join(''));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    // An fdatasync running on the old descriptor closes it when it ends.
    if (!this.flushing) closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.recordCount = count;
  }

  /**
   * Writes what is pending synchronously, fsyncs and closes the file. Records appended durably before
   * are resolved, or rejected if that final write fails. An fdatasync still running keeps the file
   * open until it ends (its own waiters learn its result).
   */
  close(): void {
    if (this.closed) return;
    let failure: JournalWriteError | undefined;
    try {
      if (this.snapshot) {
        const snapshot = this.snapshot;
        this.snapshot = undefined;
        this.pending = [];
        this.rewrite(snapshot());
      }
      if (this.pending.length > 0) this.io.writeSync(this.fd, this.pending.join(''));
      fsyncSync(this.fd);
    } catch (error) {
      failure = new JournalWriteError(this.path, error);
    }
    this.pending = [];
    this.closed = true;
    if (!this.flushing) closeSync(this.fd);
    settle(this.waiters, failure);
    this.waiters = [];
  }
}

/** Resolves the waiters, or rejects them all with `error`. */
function settle(waiters: readonly Waiter[], error?: Error): void {
  for (const waiter of waiters) {
    if (error) waiter.reject(error);
    else waiter.resolve();
  }
}
