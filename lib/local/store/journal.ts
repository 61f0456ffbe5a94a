/**
 * An append-only journal of JSON lines with group commit: records appended in the same tick are
 * written and fsync'ed together, and `appendDurable` resolves only once its record is on disk.
 * On open the journal is replayed; a torn last line (the process was killed mid-write) is ignored.
 * `compact` replaces the file with a snapshot of the live state at the next flush.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  write,
  writeSync,
} from 'node:fs';

export type JournalRecord = Record<string, unknown>;

export class Journal {
  readonly path: string;
  private fd: number;
  private pending: string[] = [];
  private waiters: Array<() => void> = [];
  private flushing = false;
  private scheduled = false;
  private snapshot: (() => Iterable<JournalRecord>) | undefined;
  private closed = false;
  /** Records written since the last compaction. */
  recordCount = 0;

  private constructor(path: string, fd: number, recordCount: number) {
    this.path = path;
    this.fd = fd;
    this.recordCount = recordCount;
  }

  /** Opens (creating if needed) the journal at `path` and returns it with the records it holds. */
  static open(path: string): { journal: Journal; records: JournalRecord[] } {
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
    return { journal: new Journal(path, fd, records.length), records };
  }

  /** Appends a record; it reaches disk with the next flush (soon, not awaited). */
  append(record: JournalRecord): void {
    if (this.closed) return;
    this.pending.push(`${JSON.stringify(record)}\n`);
    this.schedule();
  }

  /** Appends a record and resolves once it is fsync'ed. */
  appendDurable(record: JournalRecord): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.pending.push(`${JSON.stringify(record)}\n`);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
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
      this.rewrite(snapshot());
      for (const resolve of waiters) resolve();
      return;
    }
    if (this.pending.length === 0) {
      for (const resolve of waiters) resolve();
      return;
    }
    const data = Buffer.from(this.pending.join(''), 'utf8');
    this.recordCount += this.pending.length;
    this.pending = [];
    this.flushing = true;
    write(this.fd, data, 0, data.length, null, (writeError) => {
      const done = () => {
        this.flushing = false;
        for (const resolve of waiters) resolve();
        if (this.pending.length > 0 || this.snapshot) this.schedule();
      };
      if (writeError || this.closed) return done();
      fdatasync(this.fd, done);
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
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.recordCount = count;
  }

  /** Writes what is pending synchronously and closes the file. */
  close(): void {
    if (this.closed) return;
    if (this.snapshot) {
      const snapshot = this.snapshot;
      this.snapshot = undefined;
      this.pending = [];
      this.rewrite(snapshot());
    }
    if (this.pending.length > 0) writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    this.closed = true;
    try {
      fsyncSync(this.fd);
    } catch {
      // Closing anyway.
    }
    closeSync(this.fd);
    for (const resolve of this.waiters) resolve();
    this.waiters = [];
  }
}
