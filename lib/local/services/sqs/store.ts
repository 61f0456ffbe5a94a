/**
 * All queues of the runtime, their journal and the clock that makes in-flight and delayed messages
 * visible again. Queues are defined from the templates (or CreateQueue); messages restored from the
 * journal join their queue when it is defined, and survive in the journal while it is not.
 */
import { join } from 'node:path';
import { type Clock, realClock, type Timer } from '../../clock.ts';
import { Journal, type JournalIo, type JournalRecord } from '../../store/journal.ts';
import {
  type Message,
  messageFromRecord,
  messageRecord,
  Queue,
  type QueueConfig,
  type QueueHost,
} from './queue.ts';

export interface QueueStoreOptions {
  /** Directory of the journal; undefined keeps everything in memory. */
  readonly stateDir?: string;
  readonly region: string;
  readonly account: string;
  /** `http://127.0.0.1:<port>`, known once the server listens. */
  readonly baseUrl: () => string;
  /** Replaces the journal's file writes, for tests that inject a failing disk. */
  readonly journalIo?: JournalIo;
  /** The time the queues run on. @default realClock */
  readonly clock?: Clock;
}

export type DeadLetterListener = (message: Message, from: Queue, to: Queue) => void;

export class QueueStore {
  private readonly queues = new Map<string, Queue>();
  /** Messages restored from the journal whose queue is not defined (yet). */
  private readonly orphans = new Map<string, Map<string, Message>>();
  /** Queues made by CreateQueue (templates define the others on every start). */
  private readonly created = new Map<string, QueueConfig>();
  /** Tags per queue name (TagQueue / CreateQueue tags), kept across restarts. */
  private readonly tagsByQueue = new Map<string, Record<string, string>>();
  /** Epoch ms a queue name was deleted at (SQS refuses the name for 60 s). */
  private readonly deletedAt = new Map<string, number>();
  private readonly journalFile: Journal | undefined;
  private readonly host: QueueHost;
  private readonly listeners: DeadLetterListener[] = [];
  private timer: Timer | undefined;
  private lastExpiry: number;
  readonly region: string;
  readonly account: string;
  readonly clock: Clock;

  constructor(options: QueueStoreOptions) {
    this.region = options.region;
    this.account = options.account;
    this.clock = options.clock ?? realClock;
    this.lastExpiry = this.clock.now();
    this.host = {
      region: options.region,
      account: options.account,
      clock: this.clock,
      baseUrl: options.baseUrl,
      queueByArn: (arn) => this.byArn(arn),
      journal: (record) => this.journalFile?.append(record),
      journalDurable: (record) => this.journalFile?.appendDurable(record) ?? Promise.resolve(),
      deadLettered: (message, from, to) => {
        for (const listener of this.listeners) listener(message, from, to);
      },
    };
    if (options.stateDir) {
      const { journal, records } = Journal.open(join(options.stateDir, 'sqs.journal'), options.journalIo);
      this.journalFile = journal;
      this.replay(records);
      journal.compact(() => this.snapshot());
    }
    this.timer = this.clock.every(50, () => this.tick(), { unref: true });
  }

  private orphanMap(queue: string): Map<string, Message> {
    let map = this.orphans.get(queue);
    if (!map) {
      map = new Map();
      this.orphans.set(queue, map);
    }
    return map;
  }

  private replay(records: JournalRecord[]): void {
    const now = this.clock.now();
    for (const r of records) {
      const q = String(r.q);
      switch (r.t) {
        case 'c':
          this.created.set(q, r.config as QueueConfig);
          break;
        case 's':
          this.orphanMap(q).set(String(r.id), messageFromRecord(r, now));
          break;
        case 'r': {
          const m = this.orphans.get(q)?.get(String(r.id));
          if (m) {
            m.receiveCount = Number(r.rc);
            m.firstReceiveAt = Number(r.fr);
            m.visibleAt = Number(r.va);
          }
          break;
        }
        case 'v': {
          const m = this.orphans.get(q)?.get(String(r.id));
          if (m) m.visibleAt = Number(r.va);
          break;
        }
        case 'd':
          this.orphans.get(q)?.delete(String(r.id));
          break;
        case 'p':
          this.orphans.delete(q);
          break;
        case 'x':
          this.created.delete(q);
          this.tagsByQueue.delete(q);
          break;
        case 'tg':
          this.tagsByQueue.set(q, r.tags as Record<string, string>);
          break;
      }
    }
    for (const map of this.orphans.values()) {
      for (const m of map.values()) {
        m.state = m.visibleAt > now ? (m.receiveCount > 0 ? 'inflight' : 'delayed') : 'ready';
        if (m.state === 'ready') m.visibleAt = 0;
      }
    }
    for (const config of this.created.values()) this.define(config, { created: true, journal: false });
  }

  private *snapshot(): Iterable<JournalRecord> {
    for (const [name, config] of this.created) yield { t: 'c', q: name, config };
    for (const [name, tags] of this.tagsByQueue) yield { t: 'tg', q: name, tags };
    for (const queue of this.queues.values()) {
      for (const m of queue.messages.values()) yield messageRecord(queue.name, m);
    }
    for (const [name, map] of this.orphans) {
      for (const m of map.values()) yield messageRecord(name, m);
    }
  }

  /** Defines (or redefines, keeping its messages) a queue. */
  define(config: QueueConfig, options: { created?: boolean; journal?: boolean } = {}): Queue {
    if (options.created) {
      this.created.set(config.name, config);
      if (options.journal !== false) this.journalFile?.append({ t: 'c', q: config.name, config });
    }
    const existing = this.queues.get(config.name);
    if (existing) {
      existing.config = config;
      existing.lastModifiedAt = this.clock.now();
      return existing;
    }
    const restored = this.orphans.get(config.name);
    this.orphans.delete(config.name);
    const queue = new Queue(config, this.host, restored?.values() ?? []);
    this.queues.set(config.name, queue);
    return queue;
  }

  /** Deletes a queue and its messages (DeleteQueue). */
  remove(queue: Queue, now = this.clock.now()): void {
    queue.purge();
    this.queues.delete(queue.name);
    this.created.delete(queue.name);
    this.tagsByQueue.delete(queue.name);
    this.deletedAt.set(queue.name, now);
    this.journalFile?.append({ t: 'x', q: queue.name });
  }

  /** Whether a queue of this name was deleted less than 60 s ago (CreateQueue must wait). */
  deletedRecently(name: string, now = this.clock.now()): boolean {
    const at = this.deletedAt.get(name);
    return at !== undefined && now - at < 60_000;
  }

  tags(name: string): Record<string, string> {
    return { ...this.tagsByQueue.get(name) };
  }

  /** Replaces a queue's tags. */
  setTags(name: string, tags: Record<string, string>): void {
    if (Object.keys(tags).length === 0) this.tagsByQueue.delete(name);
    else this.tagsByQueue.set(name, tags);
    this.journalFile?.append({ t: 'tg', q: name, tags });
  }

  get(name: string): Queue | undefined {
    return this.queues.get(name);
  }

  /** The queue a URL names (`.../<account>/<name>`); any host, as the SDK sends to the URL's host. */
  byUrl(url: string): Queue | undefined {
    const name = url.replace(/\/+$/, '').split('/').pop() ?? '';
    return this.queues.get(name);
  }

  byArn(arn: string): Queue | undefined {
    const name = arn.split(':').pop() ?? '';
    const queue = this.queues.get(name);
    return queue && queue.arn === arn ? queue : undefined;
  }

  list(): Queue[] {
    return [...this.queues.values()];
  }

  /** Queues whose redrive policy points at `dlq`. */
  sourcesOf(dlq: Queue): Queue[] {
    return this.list().filter((q) => q.config.redrivePolicy?.deadLetterTargetArn === dlq.arn);
  }

  onDeadLetter(listener: DeadLetterListener): void {
    this.listeners.push(listener);
  }

  /** Total messages held (all queues, including restored ones whose queue is not defined). */
  size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.messages.size;
    for (const map of this.orphans.values()) n += map.size;
    return n;
  }

  private tick(): void {
    const now = this.clock.now();
    for (const queue of this.queues.values()) queue.promote(now);
    if (now - this.lastExpiry > 60_000) {
      this.lastExpiry = now;
      for (const queue of this.queues.values()) queue.expire(now);
    }
    const journal = this.journalFile;
    if (journal && journal.recordCount > 20_000 && journal.recordCount > 4 * this.size()) {
      journal.recordCount = 0;
      journal.compact(() => this.snapshot());
    }
  }

  /** Resolves once every change made so far (and a compaction asked for) is on disk. */
  flushed(): Promise<void> {
    return this.journalFile?.flushed() ?? Promise.resolve();
  }

  /** Stops the clock and closes the journal (pending records are written). */
  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.journalFile?.close();
  }
}
