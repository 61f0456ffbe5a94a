/**
 * One SQS standard queue held in memory: its messages, their visibility, receive counts and the
 * redrive to a dead-letter queue after `maxReceiveCount` receives (applied on receive, as SQS does).
 * Every change is written to the store's journal; a send resolves once its message is on disk.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { sqsErrors } from '../aws-error.ts';
import { MinHeap } from './heap.ts';
import type { MessageAttributeValue } from './md5.ts';
import { md5Hex, md5OfAttributes } from './md5.ts';

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

/** Queue settings, from the template (AWS::SQS::Queue) or CreateQueue. Durations in seconds. */
export interface QueueConfig {
  readonly name: string;
  readonly visibilityTimeout: number;
  readonly messageRetentionPeriod: number;
  readonly delaySeconds: number;
  readonly receiveMessageWaitTimeSeconds: number;
  readonly maximumMessageSize: number;
  readonly redrivePolicy?: RedrivePolicy;
  readonly redriveAllowPolicy?: string;
  readonly sqsManagedSseEnabled?: boolean;
  readonly kmsMasterKeyId?: string;
  readonly kmsDataKeyReusePeriodSeconds?: number;
  /** A FIFO queue (name ends in `.fifo`): ordered per message group, deduplicated for 5 minutes. */
  readonly fifoQueue?: boolean;
  readonly contentBasedDeduplication?: boolean;
  readonly deduplicationScope?: 'queue' | 'messageGroup';
  readonly fifoThroughputLimit?: 'perQueue' | 'perMessageGroupId';
}

/** How long a FIFO queue remembers a deduplication id (SQS: 5 minutes). */
export const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;

export const DEFAULT_QUEUE_CONFIG: Omit<QueueConfig, 'name'> = {
  visibilityTimeout: 30,
  messageRetentionPeriod: 345600,
  delaySeconds: 0,
  receiveMessageWaitTimeSeconds: 0,
  // SQS's limit (and default) since 2025: 1 MiB.
  maximumMessageSize: 1_048_576,
};

export type MessageState = 'ready' | 'inflight' | 'delayed';

/** A message as the queue keeps it. */
export interface Message {
  readonly id: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>> | undefined;
  readonly md5OfAttributes: string | undefined;
  readonly traceHeader: string | undefined;
  /** MessageGroupId: required on a FIFO queue, optional on a standard one (fair queues). */
  readonly groupId?: string | undefined;
  /** FIFO: the deduplication id (given, or the SHA-256 of the body) and the sequence number. */
  readonly deduplicationId?: string | undefined;
  readonly sequenceNumber?: string | undefined;
  readonly sentAt: number;
  /** ARN of the queue the message was moved from by a redrive policy. */
  readonly deadLetterSourceArn: string | undefined;
  receiveCount: number;
  firstReceiveAt: number;
  visibleAt: number;
  state: MessageState;
  /** Nonce of the receipt handle of the latest receive. */
  receipt: string;
  /** Bumped on every state change; stale heap entries carry an older value. */
  rev: number;
}

/** What a queue needs from the store it belongs to. */
export interface QueueHost {
  readonly region: string;
  readonly account: string;
  /** The time visibility, delays, retention and long polls are judged by. */
  readonly clock: Clock;
  baseUrl(): string;
  queueByArn(arn: string): Queue | undefined;
  journal(record: Record<string, unknown>): void;
  journalDurable(record: Record<string, unknown>): Promise<void>;
  deadLettered(message: Message, from: Queue, to: Queue): void;
}

export interface SendInput {
  readonly body: string;
  readonly attributes?: Readonly<Record<string, MessageAttributeValue>>;
  readonly delaySeconds?: number;
  readonly traceHeader?: string;
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

/** Serializes a message for the journal. */
export function messageRecord(queue: string, m: Message): Record<string, unknown> {
  return {
    t: 's',
    q: queue,
    id: m.id,
    b: m.body,
    a: m.attributes,
    th: m.traceHeader,
    g: m.groupId,
    dd: m.deduplicationId,
    sq: m.sequenceNumber,
    st: m.sentAt,
    rc: m.receiveCount,
    fr: m.firstReceiveAt,
    va: m.visibleAt,
    ds: m.deadLetterSourceArn,
  };
}

/** Rebuilds a message from a journal record. */
export function messageFromRecord(r: Record<string, unknown>, now: number): Message {
  const attributes = r.a as Record<string, MessageAttributeValue> | undefined;
  const visibleAt = typeof r.va === 'number' ? r.va : 0;
  const receiveCount = typeof r.rc === 'number' ? r.rc : 0;
  const body = String(r.b);
  return {
    id: String(r.id),
    body,
    md5OfBody: md5Hex(body),
    attributes,
    md5OfAttributes: attributes ? md5OfAttributes(attributes) : undefined,
    traceHeader: typeof r.th === 'string' ? r.th : undefined,
    groupId: typeof r.g === 'string' ? r.g : undefined,
    deduplicationId: typeof r.dd === 'string' ? r.dd : undefined,
    sequenceNumber: typeof r.sq === 'string' ? r.sq : undefined,
    sentAt: typeof r.st === 'number' ? r.st : now,
    deadLetterSourceArn: typeof r.ds === 'string' ? r.ds : undefined,
    receiveCount,
    firstReceiveAt: typeof r.fr === 'number' ? r.fr : 0,
    visibleAt,
    state: visibleAt > now ? (receiveCount > 0 ? 'inflight' : 'delayed') : 'ready',
    receipt: '',
    rev: 0,
  };
}

function nonce(): string {
  return randomBytes(9).toString('base64url');
}

/** Builds the opaque receipt handle of a receive. */
export function encodeReceipt(queue: string, id: string, receipt: string): string {
  return Buffer.from(`${queue}\n${id}\n${receipt}`, 'utf8').toString('base64');
}

/** Parses a receipt handle; throws ReceiptHandleIsInvalid when it is not one of ours. */
export function decodeReceipt(handle: string): { queue: string; id: string; receipt: string } {
  const parts = Buffer.from(handle, 'base64').toString('utf8').split('\n');
  const [queue, id, receipt] = parts;
  if (parts.length !== 3 || !queue || !id || !receipt) throw sqsErrors.receiptHandleIsInvalid(handle);
  return { queue, id, receipt };
}

export class Queue {
  config: QueueConfig;
  readonly createdAt: number;
  lastModifiedAt: number;
  private readonly host: QueueHost;
  readonly messages = new Map<string, Message>();
  private readonly ready = new Map<string, Message>();
  private readonly waiting = new MinHeap<Message>();
  private inflightCount = 0;
  private delayedCount = 0;
  private readonly waiters = new Set<() => void>();
  /** FIFO: deduplication key -> the message it was first sent as, and when. */
  private readonly deduplication = new Map<string, { message: Message; at: number }>();
  private lastSequence = 0n;

  constructor(config: QueueConfig, host: QueueHost, restored: Iterable<Message> = []) {
    this.config = config;
    this.host = host;
    this.createdAt = host.clock.now();
    this.lastModifiedAt = this.createdAt;
    for (const message of restored) this.insert(message);
  }

  get name(): string {
    return this.config.name;
  }

  get arn(): string {
    return `arn:aws:sqs:${this.host.region}:${this.host.account}:${this.config.name}`;
  }

  get url(): string {
    return `${this.host.baseUrl()}/${this.host.account}/${this.config.name}`;
  }

  /** ApproximateNumberOfMessages, ...NotVisible, ...Delayed. */
  counts(): { visible: number; notVisible: number; delayed: number } {
    this.promote(this.host.clock.now());
    return { visible: this.ready.size, notVisible: this.inflightCount, delayed: this.delayedCount };
  }

  private insert(message: Message): void {
    this.messages.set(message.id, message);
    if (message.state === 'ready') this.ready.set(message.id, message);
    else {
      if (message.state === 'inflight') this.inflightCount++;
      else this.delayedCount++;
      this.waiting.push({ at: message.visibleAt, item: message, rev: message.rev });
    }
  }

  private detach(message: Message): void {
    if (message.state === 'ready') this.ready.delete(message.id);
    else if (message.state === 'inflight') this.inflightCount--;
    else this.delayedCount--;
    message.rev++;
  }

  /** Removes a message and journals its deletion. */
  private remove(message: Message): void {
    this.detach(message);
    this.messages.delete(message.id);
    this.host.journal({ t: 'd', q: this.name, id: message.id });
  }

  /** FIFO: the next sequence number (20 digits, increasing). */
  private nextSequence(now: number): string {
    const candidate = BigInt(now) * 1_000_000n;
    this.lastSequence = candidate > this.lastSequence ? candidate : this.lastSequence + 1n;
    return this.lastSequence.toString().padStart(20, '0');
  }

  /**
   * Accepts a message; the promise resolves once it is durable, and rejects if it could not be
   * written. On a FIFO queue a message whose deduplication id was sent in the last 5 minutes is not
   * added again: the first one is returned.
   */
  send(input: SendInput, now = this.host.clock.now()): { message: Message; durable: Promise<void> } {
    const fifo = this.config.fifoQueue === true;
    let dedupKey: string | undefined;
    if (fifo && input.deduplicationId !== undefined) {
      dedupKey =
        this.config.deduplicationScope === 'messageGroup'
          ? `${input.groupId ?? ''}\n${input.deduplicationId}`
          : input.deduplicationId;
      const seen = this.deduplication.get(dedupKey);
      if (seen && now - seen.at < DEDUPLICATION_WINDOW_MS)
        return { message: seen.message, durable: Promise.resolve() };
      for (const [key, entry] of this.deduplication)
        if (now - entry.at >= DEDUPLICATION_WINDOW_MS) this.deduplication.delete(key);
    }
    const delay = input.delaySeconds ?? this.config.delaySeconds;
    const attributes =
      input.attributes && Object.keys(input.attributes).length > 0 ? input.attributes : undefined;
    const message: Message = {
      id: randomUUID(),
      body: input.body,
      md5OfBody: md5Hex(input.body),
      attributes,
      md5OfAttributes: attributes ? md5OfAttributes(attributes) : undefined,
      traceHeader: input.traceHeader,
      groupId: input.groupId,
      deduplicationId: fifo ? input.deduplicationId : undefined,
      sequenceNumber: fifo ? this.nextSequence(now) : undefined,
      sentAt: now,
      deadLetterSourceArn: undefined,
      receiveCount: 0,
      firstReceiveAt: 0,
      visibleAt: delay > 0 ? now + delay * 1000 : 0,
      state: delay > 0 ? 'delayed' : 'ready',
      receipt: '',
      rev: 0,
    };
    this.insert(message);
    if (dedupKey !== undefined) this.deduplication.set(dedupKey, { message, at: now });
    const durable = this.host.journalDurable(messageRecord(this.name, message));
    // A disk error reaches whoever awaits `durable`; a sender that does not wait must not crash the runtime.
    durable.catch(() => undefined);
    if (message.state === 'ready') this.wake();
    return { message, durable };
  }

  /**
   * Takes in a message moved from another queue, keeping its id and body. A redrive policy moves it
   * with its sent time and receive count (SQS keeps counting receives in the DLQ); a move task starts
   * both afresh.
   */
  adopt(
    source: Message,
    options: { deadLetterSourceArn?: string; keepSentAt: boolean },
    now = this.host.clock.now(),
  ): Message {
    const message: Message = {
      ...source,
      sentAt: options.keepSentAt ? source.sentAt : now,
      deadLetterSourceArn: options.deadLetterSourceArn,
      receiveCount: options.keepSentAt ? source.receiveCount : 0,
      firstReceiveAt: options.keepSentAt ? source.firstReceiveAt : 0,
      visibleAt: 0,
      state: 'ready',
      receipt: '',
      rev: 0,
    };
    this.insert(message);
    this.host.journal(messageRecord(this.name, message));
    this.wake();
    return message;
  }

  /** Moves due delayed and in-flight messages back to ready; returns how many became visible. */
  promote(now: number): number {
    let moved = 0;
    for (;;) {
      const top = this.waiting.peek();
      if (!top || top.at > now) break;
      this.waiting.pop();
      const message = top.item;
      if (top.rev !== message.rev || message.state === 'ready' || !this.messages.has(message.id)) continue;
      this.detach(message);
      message.state = 'ready';
      message.visibleAt = 0;
      this.ready.set(message.id, message);
      moved++;
    }
    if (moved > 0) this.wake();
    return moved;
  }

  /** Epoch ms of the next message that becomes visible, if any waits. */
  nextVisibleAt(): number | undefined {
    return this.waiting.peek()?.at;
  }

  /** Receives up to `max` messages, making them invisible for `visibilityTimeout` seconds. */
  receive(
    max: number,
    visibilityTimeout = this.config.visibilityTimeout,
    now = this.host.clock.now(),
  ): Message[] {
    this.promote(now);
    const out: Message[] = [];
    const retentionMs = this.config.messageRetentionPeriod * 1000;
    for (const message of this.candidates()) {
      if (out.length >= max) break;
      if (now - message.sentAt > retentionMs) {
        this.remove(message);
        continue;
      }
      const redrive = this.config.redrivePolicy;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        const dlq = this.host.queueByArn(redrive.deadLetterTargetArn);
        if (dlq) {
          this.remove(message);
          const moved = dlq.adopt(message, { deadLetterSourceArn: this.arn, keepSentAt: true }, now);
          this.host.deadLettered(moved, this, dlq);
          continue;
        }
      }
      this.detach(message);
      message.receiveCount++;
      if (message.firstReceiveAt === 0) message.firstReceiveAt = now;
      message.visibleAt = now + visibilityTimeout * 1000;
      message.state = 'inflight';
      message.receipt = nonce();
      this.inflightCount++;
      this.waiting.push({ at: message.visibleAt, item: message, rev: message.rev });
      this.host.journal({
        t: 'r',
        q: this.name,
        id: message.id,
        rc: message.receiveCount,
        fr: message.firstReceiveAt,
        va: message.visibleAt,
      });
      out.push(message);
    }
    return out;
  }

  /**
   * Ready messages in the order a receive takes them. A FIFO queue serves them by sequence number and
   * holds back every message of a group that has a message in flight (and the rest of a group after
   * one of its messages was passed over), so a group is handled in order, one receive at a time.
   */
  private candidates(): Iterable<Message> {
    if (!this.config.fifoQueue) return this.ready.values();
    const locked = new Set<string | undefined>();
    for (const m of this.messages.values()) if (m.state !== 'ready') locked.add(m.groupId);
    return [...this.ready.values()]
      .sort((a, b) => ((a.sequenceNumber ?? '') < (b.sequenceNumber ?? '') ? -1 : 1))
      .filter((m) => !locked.has(m.groupId));
  }

  /** The receipt handle of a message's latest receive. */
  receiptHandle(message: Message): string {
    return encodeReceipt(this.name, message.id, message.receipt);
  }

  private byReceipt(handle: string): { message: Message | undefined; current: boolean } {
    const { queue, id, receipt } = decodeReceipt(handle);
    if (queue !== this.name) throw sqsErrors.receiptHandleIsInvalid(handle);
    const message = this.messages.get(id);
    return { message, current: message?.receipt === receipt };
  }

  /**
   * Deletes by receipt handle. A handle from an older receive, or of a deleted message, is a no-op;
   * `asSqs` on a FIFO queue answers an expired handle of a message still there as SQS does.
   */
  deleteByReceipt(handle: string, options: { asSqs?: boolean } = {}): boolean {
    const { message, current } = this.byReceipt(handle);
    if (options.asSqs && this.config.fifoQueue) this.promote(this.host.clock.now());
    if (options.asSqs && this.config.fifoQueue && message && (!current || message.state !== 'inflight'))
      throw sqsErrors.invalidParameterValue(
        `Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
      );
    if (!message || !current) return false;
    this.remove(message);
    return true;
  }

  /** Deletes a message by id (move tasks, purge). */
  deleteById(id: string): Message | undefined {
    const message = this.messages.get(id);
    if (!message) return undefined;
    this.remove(message);
    return message;
  }

  /**
   * Changes the visibility timeout of a received message; 0 makes it visible again at once.
   *
   * Strict (the default, used by the runtime's own pollers): only the latest receive's handle of an
   * in-flight message counts. `asSqs` answers as the SQS API does: any receipt handle of a message
   * that still exists is accepted, a message that is no longer in flight is left as it is (success),
   * and a deleted message is `InvalidParameterValue`.
   */
  changeVisibility(
    handle: string,
    seconds: number,
    now = this.host.clock.now(),
    options: { asSqs?: boolean } = {},
  ): void {
    const { message, current } = this.byReceipt(handle);
    if (options.asSqs) {
      if (!message)
        throw sqsErrors.invalidParameterValue(
          `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
        );
      this.promote(now);
      if (message.state !== 'inflight') return;
    } else {
      if (message?.state !== 'inflight') throw sqsErrors.messageNotInflight();
      if (!current)
        throw sqsErrors.invalidParameterValue(
          `Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
        );
    }
    this.detach(message);
    if (seconds === 0) {
      message.state = 'ready';
      message.visibleAt = 0;
      this.ready.set(message.id, message);
      this.wake();
    } else {
      message.visibleAt = now + seconds * 1000;
      this.inflightCount++;
      this.waiting.push({ at: message.visibleAt, item: message, rev: message.rev });
    }
    this.host.journal({ t: 'v', q: this.name, id: message.id, va: message.visibleAt });
  }

  /** Epoch ms of the last PurgeQueue (SQS allows one per 60 s). */
  lastPurgeAt = 0;

  /** Deletes every message. */
  purge(): number {
    const count = this.messages.size;
    this.messages.clear();
    this.ready.clear();
    this.waiting.clear();
    this.inflightCount = 0;
    this.delayedCount = 0;
    this.host.journal({ t: 'p', q: this.name });
    return count;
  }

  /** Visible messages in queue order (move tasks take from here). */
  visibleMessages(): IterableIterator<Message> {
    return this.ready.values();
  }

  /** Drops messages older than the retention period. */
  expire(now = this.host.clock.now()): number {
    const retentionMs = this.config.messageRetentionPeriod * 1000;
    let dropped = 0;
    for (const message of this.messages.values()) {
      if (now - message.sentAt > retentionMs) {
        this.remove(message);
        dropped++;
      }
    }
    return dropped;
  }

  /** Resolves when a message may have become visible, or after `ms` on the queue's clock. */
  waitForMessages(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        timer.cancel();
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.host.clock.after(ms, done);
      this.waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }
}
