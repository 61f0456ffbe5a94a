/**
 * One SQS standard queue held in memory: its messages, their visibility, receive counts and the
 * redrive to a dead-letter queue after `maxReceiveCount` receives (applied on receive, as SQS does).
 * Every change is written to the store's journal; a send resolves once its message is on disk.
 */
import { randomBytes, randomUUID } from 'node:crypto';
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
}

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

  constructor(config: QueueConfig, host: QueueHost, restored: Iterable<Message> = []) {
    this.config = config;
    this.host = host;
    this.createdAt = Date.now();
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
    this.promote(Date.now());
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

  /** Accepts a message; the promise resolves once it is durable, and rejects if it could not be written. */
  send(input: SendInput, now = Date.now()): { message: Message; durable: Promise<void> } {
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
    const durable = this.host.journalDurable(messageRecord(this.name, message));
    // A disk error reaches whoever awaits `durable`; a sender that does not wait must not crash the runtime.
    durable.catch(() => undefined);
    if (message.state === 'ready') this.wake();
    return { message, durable };
  }

  /** Takes in a message moved from another queue (redrive policy or move task), keeping its id and body. */
  adopt(
    source: Message,
    options: { deadLetterSourceArn?: string; keepSentAt: boolean },
    now = Date.now(),
  ): Message {
    const message: Message = {
      ...source,
      sentAt: options.keepSentAt ? source.sentAt : now,
      deadLetterSourceArn: options.deadLetterSourceArn,
      receiveCount: 0,
      firstReceiveAt: 0,
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
  receive(max: number, visibilityTimeout = this.config.visibilityTimeout, now = Date.now()): Message[] {
    this.promote(now);
    const out: Message[] = [];
    const retentionMs = this.config.messageRetentionPeriod * 1000;
    for (const message of this.ready.values()) {
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

  /** Deletes by receipt handle. A handle from an older receive, or of a deleted message, is a no-op. */
  deleteByReceipt(handle: string): boolean {
    const { message, current } = this.byReceipt(handle);
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

  /** Changes the visibility timeout of a received message; 0 makes it visible again at once. */
  changeVisibility(handle: string, seconds: number, now = Date.now()): void {
    const { message, current } = this.byReceipt(handle);
    if (message?.state !== 'inflight') throw sqsErrors.messageNotInflight();
    if (!current)
      throw sqsErrors.invalidParameterValue(
        `Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`,
      );
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
  expire(now = Date.now()): number {
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

  /** Resolves when a message may have become visible, or after `ms`. */
  waitForMessages(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }
}
