/**
 * The operations of the router's failures, one implementation for the CLI (`event-router dlq`,
 * `failures`, `audit`) and the dashboard, through real AWS SDK v3 clients: the same code runs against
 * AWS and against the local runtime (an endpoint override). Queues and the deliveries table are found
 * from the router spec by the naming convention.
 *
 * Reading a DLQ never moves anything. SQS has no "browse": a message is read by receiving it, which
 * hides it for a visibility timeout. Every read here is a *pass*: messages are received with a short
 * visibility (`hideSeconds`, 30 s by default), de-duplicated by MessageId (in this one place), and the
 * pass ends when the DLQ answers empty, when it only returns messages already read, or when the pass
 * has run for most of `hideSeconds` (so nothing read stays hidden longer than that, even if the tool is
 * killed: SQS makes them visible again by itself). At the end every message still held is released
 * (visibility 0). A pass that ran out of time says so (`complete: false`) beside the DLQ's approximate
 * depth, so a partial picture is never shown as the whole.
 *
 * Failure groups come from such a pass over each DLQ: every dead letter carries the worker's reason
 * attributes, so one pass groups it without a read of the deliveries table, including the dead letters
 * no worker saw (EventBridge delivery failures carry EventBridge's ERROR_CODE / ERROR_MESSAGE). With
 * several receives in flight a pass reads thousands of messages per second on AWS, so a DLQ of 10,000+
 * messages is read in one pass well within the 30 s it may hide them (measured in `npm run bench`).
 *
 * A bulk redrive moves a *frozen set* (message ids chosen when the operator confirmed): messages that
 * arrive later are never swept in. Each message is copied with all its attributes (DeadLetterId
 * included, so the worker takes the copy for a redrive of that dead letter) and deleted from the DLQ
 * right after the copy was accepted, batch by batch at the chosen rate; it is never held hidden while
 * others are sent, and an id once moved is never sent again (a DLQ slower to drain than the visibility
 * timeout cannot make a message move twice). A journal (see journal.ts) records sends and deletes, so an
 * interrupted run resumes without sending twice what it had deleted; a crash between a send and its
 * journal line can leave one extra copy, which the worker's dedup acknowledges as a duplicate.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type Message,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../../common/concurrency.ts';
import { DEAD_INDEX, type ErrorSummary } from '../../common/contracts.ts';
import { PayloadValidator, type Violation } from '../../common/payload-schema.ts';
import type { RouterSpec } from '../config/types.ts';
import { names } from '../naming.ts';
import { type AuditEntry, AuditLog } from './audit.ts';
import {
  asRecord,
  copiedAttributes,
  type DeadLetter,
  eventOfBody,
  OPS_ATTRIBUTES,
  readDeadLetter,
} from './dead-letter.ts';
import { OpsError } from './errors.ts';
import { fingerprint, normaliseMessage } from './fingerprint.ts';
import { isLocalEndpoint, operatorIdentity } from './identity.ts';
import type { RedriveJournal } from './journal.ts';
import { Replays } from './replay.ts';

/** An edited payload that breaks its event's schema: nothing was sent. */
export class PayloadRejected extends OpsError {
  constructor(
    readonly eventName: string,
    readonly violations: readonly Violation[],
  ) {
    super(
      `The payload breaks the schema of ${eventName}: ${violations.map((v) => `${v.pointer || '(payload)'} ${v.message}`).join('; ')}. Nothing was sent.`,
      422,
    );
  }
}

/** One RPC's queues. */
export interface RpcQueues {
  readonly rpc: string;
  readonly queueName: string;
  readonly dlqName: string;
}

/** Depth of one queue, or why it could not be read. */
export type QueueDepth =
  | { readonly name: string; readonly visible: number; readonly inFlight: number; readonly delayed: number }
  | { readonly name: string; readonly error: string };

export interface RpcDepths {
  readonly rpc: string;
  readonly queue: QueueDepth;
  readonly dlq: QueueDepth;
}

export interface PassOptions {
  /** Read at most this many messages. @default no limit */
  readonly max?: number;
  /** Seconds a read message may stay hidden (the receive's visibility timeout). @default 30 */
  readonly hideSeconds?: number;
}

/** What one reading pass over a DLQ saw. */
export interface PassResult {
  readonly rpc: string;
  /** Distinct messages read, in the order first read. */
  readonly letters: readonly DeadLetter[];
  /** True when the pass ended because the DLQ had nothing more to show (not on time or `max`). */
  readonly complete: boolean;
  /** The DLQ's approximate depth (visible + in flight) when the pass started. */
  readonly approximate: number;
}

/** One failure group: dead letters of one RPC with one error type and one normalised message. */
export interface FailureGroup {
  /** Stable id: a hash of RPC, error type and the normalised message. */
  readonly id: string;
  readonly rpc: string;
  readonly errorType: string;
  /** The normalised first line of the error message. */
  readonly signature: string;
  readonly count: number;
  /** ISO instants of the first and last failure in the group. */
  readonly firstFailedAt?: string;
  readonly lastFailedAt?: string;
  /** One whole error message of the group (with its stack when the worker sent one). */
  readonly sampleError: string;
  readonly sampleMessageId: string;
  /** Up to five eventIds of the group. */
  readonly eventIds: readonly string[];
  readonly eventNames: readonly string[];
  /** Message ids of the group's dead letters read from the DLQ (those no DEAD record names). */
  readonly messageIds: readonly string[];
  /**
   * DeadLetterIds of the group's DEAD records (from the index). With `messageIds`, the frozen set a
   * group redrive moves: {@link groupMessageIds} finds their messages in the DLQ by this id.
   */
  readonly deadLetterIds: readonly string[];
  /** Where the group was read from: the index of DEAD records, a DLQ pass, or both. */
  readonly source: 'index' | 'dlq' | 'index+dlq';
}

export interface FailureReport {
  /** ISO instant the passes started. */
  readonly takenAt: string;
  /** Largest groups first. */
  readonly groups: readonly FailureGroup[];
  /** Per RPC: messages read, the DLQ's approximate depth, and whether the pass read it all. */
  readonly rpcs: ReadonlyArray<{
    readonly rpc: string;
    /** Dead letters read: DEAD records from the index plus messages read from the DLQ. */
    readonly read: number;
    readonly approximate: number;
    readonly complete: boolean;
    /** `index`: the DEAD records answered it all; `index+dlq`: the DLQ held more (read in a pass); `dlq`: no index. */
    readonly source: 'index' | 'index+dlq' | 'dlq';
    readonly error?: string;
  }>;
}

/** A DEAD delivery record as the sparse index returns it (keys and the projected attributes). */
export interface DeadRecord {
  readonly eventId: string;
  readonly rpc: string;
  readonly deadAt?: number;
  readonly lastError?: ErrorSummary;
  readonly eventName?: string;
  readonly attempts?: number;
  readonly deadLetterId?: string;
}

/** A message move task as the operator who started it follows it. */
export interface MoveTaskState {
  readonly rpc: string;
  readonly taskHandle: string;
  readonly status: 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED' | 'UNKNOWN';
  readonly moved: number;
  readonly toMove?: number;
  readonly failureReason?: string;
  /** Epoch ms the task started (as SQS reports it). */
  readonly startedAt?: number;
}

export interface RedriveProgress {
  readonly rpc: string;
  readonly total: number;
  /** Moved so far, including what an interrupted earlier run of the same journal moved. */
  readonly moved: number;
}

export interface RedriveSetOptions {
  /** At most this many messages sent per second. @default no limit (batches of 10 as fast as SQS answers) */
  readonly rate?: number;
  /** Records sends and deletes; a journal of an interrupted run is resumed. */
  readonly journal?: RedriveJournal;
  /** Seconds a received message may stay hidden. @default 30 */
  readonly hideSeconds?: number;
  readonly onProgress?: (progress: RedriveProgress) => void;
  /** Stops after the batch in hand (Ctrl-C): the report says what moved. */
  readonly signal?: AbortSignal;
  /** What the audit entry names (a group, a filter). */
  readonly what?: string;
}

export interface RedriveSetReport {
  readonly rpc: string;
  readonly total: number;
  /** Message ids moved (copied to the queue and deleted from the DLQ), this run and earlier runs of the journal. */
  readonly moved: readonly string[];
  /** Ids of the set no longer found in the DLQ (moved or deleted by someone else, or hidden by another reader). */
  readonly notFound: readonly string[];
  /** Ids whose copy SQS refused, with the reason; they stay in the DLQ. */
  readonly failed: ReadonlyArray<{ readonly messageId: string; readonly reason: string }>;
  readonly interrupted: boolean;
}

export interface EditResult {
  readonly rpc: string;
  readonly originalMessageId: string;
  readonly messageId: string;
  readonly rerunId: string;
  readonly eventId?: string;
  /** Whether a delivery record was found and noted. */
  readonly recordNoted: boolean;
}

export interface OperationsOptions {
  readonly spec: RouterSpec;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  /** For replays (StartReplay, DescribeReplay, CancelReplay); the other operations do without. */
  readonly events?: EventBridgeClient;
  /** The endpoint the clients use (undefined: AWS); decides how the operator is identified. */
  readonly endpoint?: string;
  /** Who acts, when the caller knows (tests); else from STS on AWS, the OS user locally. */
  readonly operator?: string;
  /** Receives in flight at once during a pass. @default 8 */
  readonly readConcurrency?: number;
}

const DEFAULT_HIDE_SECONDS = 30;
/** A pass stops reading after this share of its hide time, so it can release everything in time. */
const PASS_TIME_SHARE = 0.6;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The ops of one router. */
export class Operations {
  readonly rpcs: readonly RpcQueues[];
  readonly audit: AuditLog;
  readonly deliveriesTable: string;
  private readonly sqs: SQSClient;
  private readonly doc: DynamoDBDocumentClient;
  private readonly validator: PayloadValidator;
  private readonly urls = new Map<string, string>();
  private readonly waitSeconds: number;
  private readonly readConcurrency: number;
  private operator: Promise<string> | undefined;

  constructor(private readonly options: OperationsOptions) {
    const ctx = { app: options.spec.app.name, stage: options.spec.app.stage };
    this.rpcs = options.spec.services.flatMap((s) =>
      s.rpcs.map((r) => ({
        rpc: r.id,
        queueName: names.queueName(ctx, r.id),
        dlqName: names.dlqName(ctx, r.id),
      })),
    );
    this.deliveriesTable = names.deliveriesTableName(ctx);
    this.sqs = options.sqs;
    this.doc = DynamoDBDocumentClient.from(options.dynamodb);
    this.audit = new AuditLog(this.doc, this.deliveriesTable);
    this.validator = new PayloadValidator(
      Object.fromEntries(options.spec.events.map((e) => [e.name, e.schema as Record<string, unknown>])),
    );
    // An empty short-poll receive on AWS may miss messages on other servers; a 1 s long poll asks them all.
    this.waitSeconds = isLocalEndpoint(options.endpoint ?? process.env.AWS_ENDPOINT_URL) ? 0 : 1;
    this.readConcurrency = options.readConcurrency ?? 8;
    if (options.operator) this.operator = Promise.resolve(options.operator);
  }

  /** Who acts (cached): the given operator, the STS caller on AWS, or the OS user locally. */
  whoami(): Promise<string> {
    this.operator ??= operatorIdentity(this.sqs, this.options.endpoint ?? process.env.AWS_ENDPOINT_URL);
    return this.operator;
  }

  /** The queues of `rpcId`; an OpsError (404) naming the known RPCs for an unknown one. */
  rpc(rpcId: string): RpcQueues {
    const found = this.rpcs.find((r) => r.rpc === rpcId);
    if (!found)
      throw new OpsError(
        `The router has no RPC "${rpcId}". Known RPCs: ${this.rpcs.map((r) => r.rpc).join(', ') || 'none'}.`,
        404,
      );
    return found;
  }

  private async queueUrl(name: string): Promise<string> {
    const cached = this.urls.get(name);
    if (cached) return cached;
    try {
      const { QueueUrl } = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      if (!QueueUrl) throw new Error(`GetQueueUrl returned no URL for ${name}.`);
      this.urls.set(name, QueueUrl);
      return QueueUrl;
    } catch (error) {
      if (error instanceof QueueDoesNotExist || (error as Error).name === 'QueueDoesNotExist')
        throw new OpsError(
          this.options.endpoint
            ? `Queue ${name} does not exist on the runtime at ${this.options.endpoint}. Is the app synthesized and the runtime (\`event-router dev\`) started from this event-router.yaml?`
            : `Queue ${name} does not exist in this AWS account and region. Is the router deployed (and AWS_REGION / AWS_PROFILE the ones it was deployed with)?`,
          404,
        );
      throw error;
    }
  }

  private async attributes(name: string): Promise<Record<string, string>> {
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: await this.queueUrl(name),
        AttributeNames: [
          'QueueArn',
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return Attributes;
  }

  /** Depth of one queue, or why it could not be read. */
  async depth(name: string): Promise<QueueDepth> {
    try {
      const a = await this.attributes(name);
      return {
        name,
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    } catch (error) {
      return { name, error: errorText(error) };
    }
  }

  /** Queue and DLQ depth of every RPC, in spec order. */
  depths(): Promise<RpcDepths[]> {
    return mapWithConcurrency(this.rpcs, 8, async (r) => {
      const [queue, dlq] = await Promise.all([this.depth(r.queueName), this.depth(r.dlqName)]);
      return { rpc: r.rpc, queue, dlq };
    });
  }

  private async arn(name: string): Promise<string> {
    const arn = (await this.attributes(name)).QueueArn;
    if (!arn) throw new Error(`Queue ${name} reported no QueueArn.`);
    return arn;
  }

  private async receive(url: string, max: number, hideSeconds: number): Promise<Message[]> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
        VisibilityTimeout: hideSeconds,
        WaitTimeSeconds: this.waitSeconds,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    return Messages;
  }

  /** Makes received messages visible again; if this fails they come back after their visibility anyway. */
  private async release(url: string, receiptHandles: readonly string[]): Promise<void> {
    const batches: string[][] = [];
    for (let i = 0; i < receiptHandles.length; i += 10) batches.push(receiptHandles.slice(i, i + 10));
    await mapWithConcurrency(batches, 4, (batch) =>
      this.sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: batch.map((handle, j) => ({
              Id: String(j),
              ReceiptHandle: handle,
              VisibilityTimeout: 0,
            })),
          }),
        )
        .catch(() => undefined),
    );
  }

  /**
   * One reading pass over the RPC's DLQ (see the module doc): nothing is moved; what was read is
   * released at the end unless `keep` claims it (then the caller holds it, hidden, until it deletes or
   * releases it).
   */
  async readPass(
    rpcId: string,
    options: PassOptions = {},
    keep?: (letter: DeadLetter) => boolean,
  ): Promise<PassResult & { readonly kept: readonly DeadLetter[] }> {
    const target = this.rpc(rpcId);
    const url = await this.queueUrl(target.dlqName);
    const a = await this.attributes(target.dlqName);
    const approximate =
      Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
    const max = options.max ?? Number.POSITIVE_INFINITY;
    const hideSeconds = options.hideSeconds ?? DEFAULT_HIDE_SECONDS;
    const deadline = Date.now() + hideSeconds * 1000 * PASS_TIME_SHARE;
    const seen = new Map<string, DeadLetter>();
    const held: string[] = [];
    const kept: DeadLetter[] = [];
    let complete = false;
    let stale = 0;
    while (seen.size < max && Date.now() < deadline) {
      const room = max - seen.size;
      const lanes = room > 10 ? this.readConcurrency : 1;
      const answers = await Promise.all(
        Array.from({ length: lanes }, () => this.receive(url, Math.min(10, room), hideSeconds)),
      );
      const messages = answers.flat();
      if (messages.length === 0) {
        complete = true;
        break;
      }
      let fresh = 0;
      for (const m of messages) {
        const letter = readDeadLetter(target.rpc, m);
        if (seen.has(letter.messageId) || seen.size >= max) {
          held.push(letter.receiptHandle);
          continue;
        }
        fresh++;
        seen.set(letter.messageId, letter);
        if (keep?.(letter)) kept.push(letter);
        else held.push(letter.receiptHandle);
      }
      // Only messages read before (their visibility ran out): the DLQ has shown everything it holds.
      if (fresh === 0 && ++stale >= 3) {
        complete = true;
        break;
      }
      if (fresh > 0) stale = 0;
    }
    await this.release(url, held);
    return { rpc: target.rpc, letters: [...seen.values()], complete, approximate, kept };
  }

  /** Up to `max` dead letters of the RPC, de-duplicated, released right after (hidden for at most 5 s). */
  async peek(rpcId: string, max = 10): Promise<DeadLetter[]> {
    const limit = Math.max(1, Math.min(1000, Math.floor(max)));
    return [...(await this.readPass(rpcId, { max: limit, hideSeconds: 5 })).letters];
  }

  /**
   * The DEAD records of the RPC from the sparse index (DEAD_INDEX), oldest death first; undefined when
   * the table has no such index (a table created before it, or a hand-written template).
   */
  async deadRecords(rpcId: string): Promise<DeadRecord[] | undefined> {
    const out: DeadRecord[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.deliveriesTable,
            IndexName: DEAD_INDEX.name,
            KeyConditionExpression: '#rpc = :rpc',
            ExpressionAttributeNames: { '#rpc': DEAD_INDEX.partitionKey },
            ExpressionAttributeValues: { ':rpc': rpcId },
            ExclusiveStartKey: start,
          }),
        );
        out.push(...((page.Items ?? []) as DeadRecord[]));
        start = page.LastEvaluatedKey;
      } while (start);
      return out;
    } catch (error) {
      const e = error as Error;
      if (e.name === 'ValidationException' && /index/i.test(e.message)) return undefined;
      throw error;
    }
  }

  /**
   * Groups every dead letter of the given RPCs (default: all) by RPC + error type + fingerprint.
   * Dead deliveries a worker recorded come from the sparse index of DEAD records (one Query per RPC,
   * nothing hidden); the DLQ is read in a pass only when its depth differs from the number of records:
   * more messages are dead letters no worker saw (such as EventBridge delivery failures), taken from the
   * pass when no DEAD record names them; fewer mean records whose dead letter is gone (purged, expired),
   * dropped when the pass saw all of the DLQ. Without the index, every DLQ is read in a pass.
   */
  async failureGroups(
    options: { rpcs?: readonly string[]; hideSeconds?: number } = {},
  ): Promise<FailureReport> {
    const takenAt = new Date().toISOString();
    const which = options.rpcs?.length ? options.rpcs.map((r) => this.rpc(r)) : this.rpcs;
    const readings = await mapWithConcurrency(which, 4, async (target) => {
      try {
        const dead = await this.deadRecords(target.rpc);
        if (dead) {
          const depth = await this.depth(target.dlqName);
          const approximate = 'error' in depth ? dead.length : depth.visible + depth.inFlight;
          if (approximate === dead.length)
            return {
              rpc: target.rpc,
              dead,
              letters: [] as DeadLetter[],
              complete: true,
              approximate,
              source: 'index' as const,
            };
          const pass = await this.readPass(target.rpc, {
            hideSeconds: options.hideSeconds ?? DEFAULT_HIDE_SECONDS,
          });
          // Fewer messages than records: some records' dead letters left the DLQ without a redrive
          // (purged, past the DLQ's retention, deleted by hand). A complete pass keeps only the records
          // whose dead letter it saw, so a group never counts a message that is gone.
          const inDlq = new Set(pass.letters.map((d) => d.deadLetterId).filter(Boolean));
          const live =
            approximate < dead.length && pass.complete
              ? dead.filter((d) => d.deadLetterId !== undefined && inDlq.has(d.deadLetterId))
              : dead;
          const known = new Set(live.map((d) => d.deadLetterId).filter(Boolean));
          return {
            rpc: target.rpc,
            dead: live,
            letters: pass.letters.filter((d) => !d.deadLetterId || !known.has(d.deadLetterId)),
            complete: pass.complete,
            approximate: pass.approximate,
            source: 'index+dlq' as const,
          };
        }
        const pass = await this.readPass(target.rpc, {
          hideSeconds: options.hideSeconds ?? DEFAULT_HIDE_SECONDS,
        });
        return { ...pass, dead: [] as DeadRecord[], source: 'dlq' as const };
      } catch (error) {
        return {
          rpc: target.rpc,
          dead: [] as DeadRecord[],
          letters: [] as DeadLetter[],
          complete: false,
          approximate: 0,
          source: 'dlq' as const,
          error: errorText(error),
        };
      }
    });
    const groups = new Map<
      string,
      {
        group: Omit<FailureGroup, 'count' | 'source'>;
        ids: string[];
        deadLetterIds: string[];
        names: Set<string>;
        events: string[];
        first?: string;
        last?: string;
      }
    >();
    const add = (
      rpc: string,
      errorType: string,
      message: string,
      stack: string | undefined,
      sample: string,
      member: { messageId?: string; deadLetterId?: string },
      eventName: string | undefined,
      eventId: string | undefined,
      when: string | undefined,
    ) => {
      const id = fingerprint(rpc, errorType, message);
      let entry = groups.get(id);
      if (!entry) {
        entry = {
          group: {
            id,
            rpc,
            errorType,
            signature: normaliseMessage(message),
            sampleError: stack ? `${message}\n${stack}` : message,
            sampleMessageId: sample,
            eventIds: [],
            eventNames: [],
            messageIds: [],
            deadLetterIds: [],
          },
          ids: [],
          deadLetterIds: [],
          names: new Set(),
          events: [],
        };
        groups.set(id, entry);
      }
      if (member.messageId) entry.ids.push(member.messageId);
      if (member.deadLetterId) entry.deadLetterIds.push(member.deadLetterId);
      if (eventName) entry.names.add(eventName);
      if (eventId && entry.events.length < 5 && !entry.events.includes(eventId)) entry.events.push(eventId);
      if (when) {
        if (!entry.first || when < entry.first) entry.first = when;
        if (!entry.last || when > entry.last) entry.last = when;
      }
    };
    for (const reading of readings) {
      for (const r of reading.dead) {
        const error = r.lastError;
        add(
          r.rpc,
          error?.name ?? 'Unknown',
          error?.message ?? '(no reason recorded)',
          error?.stack,
          `event ${r.eventId}`,
          { ...(r.deadLetterId ? { deadLetterId: r.deadLetterId } : {}) },
          r.eventName,
          r.eventId,
          typeof r.deadAt === 'number' ? new Date(r.deadAt).toISOString() : undefined,
        );
      }
      for (const d of reading.letters) {
        add(
          d.rpc,
          d.errorType ?? 'Unknown',
          d.errorMessage ?? '(no reason recorded: the message reached the DLQ without a worker)',
          d.errorStack,
          d.messageId,
          { messageId: d.messageId },
          d.eventName,
          d.eventId,
          d.failedAt ?? (d.sentAt ? new Date(d.sentAt).toISOString() : undefined),
        );
      }
    }
    const out: FailureGroup[] = [...groups.values()].map((e) => ({
      ...e.group,
      count: e.ids.length + e.deadLetterIds.length,
      ...(e.first ? { firstFailedAt: e.first } : {}),
      ...(e.last ? { lastFailedAt: e.last } : {}),
      eventIds: e.events,
      eventNames: [...e.names],
      messageIds: e.ids,
      deadLetterIds: e.deadLetterIds,
      source: e.deadLetterIds.length === 0 ? 'dlq' : e.ids.length === 0 ? 'index' : 'index+dlq',
    }));
    out.sort((a, b) => b.count - a.count || a.rpc.localeCompare(b.rpc) || a.id.localeCompare(b.id));
    return {
      takenAt,
      groups: out,
      rpcs: readings.map((p) => ({
        rpc: p.rpc,
        read: p.letters.length + p.dead.length,
        approximate: p.approximate,
        complete: p.complete,
        source: p.source,
        ...('error' in p && p.error ? { error: p.error } : {}),
      })),
    };
  }

  /**
   * The message ids a redrive of `group` moves: its DLQ messages, and the messages of its DEAD records
   * (found in one reading pass by their DeadLetterId). Records whose message is no longer in the DLQ are
   * left out (the redrive reports them as not found).
   */
  async groupMessageIds(group: FailureGroup, hideSeconds = 5): Promise<string[]> {
    if (group.deadLetterIds.length === 0) return [...group.messageIds];
    const wanted = new Set(group.deadLetterIds);
    const pass = await this.readPass(group.rpc, { hideSeconds });
    const found = pass.letters
      .filter((d) => d.deadLetterId && wanted.has(d.deadLetterId))
      .map((d) => d.messageId);
    return [...new Set([...group.messageIds, ...found])];
  }

  /** The ids of the RPC's dead letters whose body or attributes contain `text` (one reading pass). */
  async matching(rpcId: string, text: string, options: PassOptions = {}): Promise<DeadLetter[]> {
    const pass = await this.readPass(rpcId, options);
    return pass.letters.filter((d) => `${d.body} ${JSON.stringify(d.attributes)}`.includes(text));
  }

  /**
   * Starts moving the whole DLQ back into the RPC's queue with StartMessageMoveTask (explicit
   * destination), and records it in the audit. Returns the task to follow with {@link moveTask}.
   */
  async startRedrive(
    rpcId: string,
    rate?: number,
  ): Promise<MoveTaskState & { readonly sourceArn: string; readonly destinationArn: string }> {
    const target = this.rpc(rpcId);
    const [sourceArn, destinationArn] = await Promise.all([
      this.arn(target.dlqName),
      this.arn(target.queueName),
    ]);
    const before = await this.listTasks(sourceArn);
    const baseline = Math.max(0, ...before.map((t) => t.StartedTimestamp ?? 0));
    const who = await this.whoami();
    let taskHandle: string;
    try {
      ({ TaskHandle: taskHandle = '' } = await this.sqs.send(
        new StartMessageMoveTaskCommand({
          SourceArn: sourceArn,
          DestinationArn: destinationArn,
          ...(rate ? { MaxNumberOfMessagesPerSecond: rate } : {}),
        }),
      ));
    } catch (error) {
      await this.audit.record({
        who,
        action: 'redrive',
        rpc: target.rpc,
        what: 'whole DLQ (message move task)',
        count: 0,
        outcome: 'failed',
        detail: errorText(error),
      });
      throw new OpsError(`Redrive of ${target.dlqName} was refused: ${errorText(error)}`, 409);
    }
    this.started.set(taskHandle, { sourceArn, baseline });
    const state = await this.moveTask(target.rpc, taskHandle);
    await this.audit.record({
      who,
      action: 'redrive',
      rpc: target.rpc,
      what: `whole DLQ (message move task ${taskHandle})`,
      count: state.toMove ?? state.moved,
      outcome: state.status === 'FAILED' ? 'failed' : 'ok',
      detail: `task ${state.status}${state.failureReason ? `: ${state.failureReason}` : ''}`,
    });
    return { ...state, sourceArn, destinationArn };
  }

  /** Tasks this process started: their source and the newest task start seen before them. */
  private readonly started = new Map<string, { sourceArn: string; baseline: number; startedAt?: number }>();

  private async listTasks(sourceArn: string): Promise<ListMessageMoveTasksResultEntry[]> {
    const { Results = [] } = await this.sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }),
    );
    return Results;
  }

  /**
   * The state of the move task `taskHandle` that this process started. SQS lists a task's handle only
   * while it runs, so the task is found by its handle while RUNNING (its start time remembered), and
   * afterwards by that start time, or (if it finished before it was ever seen running) as the oldest task
   * started after the newest one listed before the start: never an older task's result.
   */
  async moveTask(rpcId: string, taskHandle: string): Promise<MoveTaskState> {
    const target = this.rpc(rpcId);
    const known = this.started.get(taskHandle) ?? {
      sourceArn: await this.arn(target.dlqName),
      baseline: Number.NaN,
    };
    const tasks = await this.listTasks(known.sourceArn);
    let task = tasks.find((t) => t.TaskHandle === taskHandle);
    if (task?.StartedTimestamp !== undefined) known.startedAt = task.StartedTimestamp;
    if (!task && known.startedAt !== undefined)
      task = tasks.find((t) => t.StartedTimestamp === known.startedAt);
    if (!task && Number.isFinite(known.baseline)) {
      const after = tasks.filter((t) => (t.StartedTimestamp ?? 0) > known.baseline);
      task = after.sort((a, b) => (a.StartedTimestamp ?? 0) - (b.StartedTimestamp ?? 0))[0];
      if (task?.StartedTimestamp !== undefined) known.startedAt = task.StartedTimestamp;
    }
    this.started.set(taskHandle, known);
    if (!task) return { rpc: target.rpc, taskHandle, status: 'UNKNOWN', moved: 0 };
    return {
      rpc: target.rpc,
      taskHandle,
      status: (task.Status ?? 'UNKNOWN') as MoveTaskState['status'],
      moved: task.ApproximateNumberOfMessagesMoved ?? 0,
      ...(task.ApproximateNumberOfMessagesToMove !== undefined
        ? { toMove: task.ApproximateNumberOfMessagesToMove }
        : {}),
      ...(task.FailureReason ? { failureReason: task.FailureReason } : {}),
      ...(task.StartedTimestamp !== undefined ? { startedAt: task.StartedTimestamp } : {}),
    };
  }

  /** Cancels a running message move task of the RPC's DLQ (what it moved stays moved); records it. */
  async cancelRedrive(rpcId: string, taskHandle: string): Promise<number> {
    const target = this.rpc(rpcId);
    const who = await this.whoami();
    try {
      const { ApproximateNumberOfMessagesMoved = 0 } = await this.sqs.send(
        new CancelMessageMoveTaskCommand({ TaskHandle: taskHandle }),
      );
      await this.audit.record({
        who,
        action: 'redrive',
        rpc: target.rpc,
        what: `cancel of message move task ${taskHandle}`,
        count: ApproximateNumberOfMessagesMoved,
        outcome: 'ok',
      });
      return ApproximateNumberOfMessagesMoved;
    } catch (error) {
      await this.audit.record({
        who,
        action: 'redrive',
        rpc: target.rpc,
        what: `cancel of message move task ${taskHandle}`,
        count: 0,
        outcome: 'failed',
        detail: errorText(error),
      });
      throw new OpsError(`The move task ${taskHandle} could not be cancelled: ${errorText(error)}`, 409);
    }
  }

  /** Polls {@link moveTask} until the task is no longer RUNNING. */
  async followMoveTask(
    rpcId: string,
    taskHandle: string,
    onProgress?: (state: MoveTaskState) => void,
    pollMs = 500,
  ): Promise<MoveTaskState> {
    for (;;) {
      const state = await this.moveTask(rpcId, taskHandle);
      onProgress?.(state);
      if (state.status !== 'RUNNING' && state.status !== 'CANCELLING') return state;
      await sleep(pollMs);
    }
  }

  /**
   * Moves exactly the dead letters `ids` (a frozen set) of the RPC's DLQ back into its queue, copy then
   * delete, at most `rate` per second (see the module doc). Messages of the DLQ outside the set are left
   * in it (received, then released). Records the outcome in the audit.
   */
  async redriveSet(
    rpcId: string,
    ids: readonly string[],
    options: RedriveSetOptions = {},
  ): Promise<RedriveSetReport> {
    const target = this.rpc(rpcId);
    const [dlqUrl, queueUrl] = await Promise.all([
      this.queueUrl(target.dlqName),
      this.queueUrl(target.queueName),
    ]);
    const journal = options.journal;
    const alreadyDeleted = journal?.deleted ?? new Set<string>();
    const sentEarlier = journal?.sent ?? new Set<string>();
    const pending = new Set(ids.filter((id) => !alreadyDeleted.has(id)));
    const moved = ids.filter((id) => alreadyDeleted.has(id));
    const failures = new Map<string, { reason: string; tries: number }>();
    const hideSeconds = options.hideSeconds ?? DEFAULT_HIDE_SECONDS;
    const rate = options.rate && options.rate > 0 ? options.rate : undefined;
    const batchSize = rate ? Math.max(1, Math.min(10, Math.floor(rate))) : 10;
    const others = new Map<string, string>();
    const started = Date.now();
    let sentThisRun = 0;
    let empty = 0;
    let stale = 0;
    const progress = () => options.onProgress?.({ rpc: target.rpc, total: ids.length, moved: moved.length });
    progress();
    while (pending.size > 0 && !options.signal?.aborted) {
      const messages = await this.receive(dlqUrl, batchSize, hideSeconds);
      if (messages.length === 0) {
        if (++empty >= 2) break;
        continue;
      }
      empty = 0;
      const ours: DeadLetter[] = [];
      let fresh = 0;
      for (const m of messages) {
        const d = readDeadLetter(target.rpc, m);
        if (pending.has(d.messageId)) ours.push(d);
        else {
          if (!others.has(d.messageId)) fresh++;
          others.set(d.messageId, d.receiptHandle);
        }
      }
      if (ours.length === 0) {
        if (fresh === 0 && ++stale >= 10) break;
        continue;
      }
      stale = 0;
      // Already copied by an interrupted run: only the delete is left to do.
      const toSend = ours.filter((d) => !sentEarlier.has(d.messageId));
      if (rate && toSend.length > 0) {
        const due = started + ((sentThisRun + toSend.length) / rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      const copied = new Set(ours.filter((d) => sentEarlier.has(d.messageId)).map((d) => d.messageId));
      if (toSend.length > 0) {
        const { Successful = [], Failed = [] } = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: toSend.map((d, i) => ({
              Id: String(i),
              MessageBody: d.body,
              MessageAttributes: copiedAttributes(d),
            })),
          }),
        );
        const sentIds = Successful.map((s) => toSend[Number(s.Id)]?.messageId ?? '').filter(Boolean);
        journal?.recordSent(sentIds);
        for (const id of sentIds) copied.add(id);
        sentThisRun += sentIds.length;
        for (const f of Failed) {
          const id = toSend[Number(f.Id)]?.messageId ?? '';
          const tries = (failures.get(id)?.tries ?? 0) + 1;
          failures.set(id, { reason: `${f.Code ?? 'Error'}: ${f.Message ?? ''}`, tries });
          // Tried three times: left in the DLQ and reported.
          if (tries >= 3) pending.delete(id);
        }
      }
      const toDelete = ours.filter((d) => copied.has(d.messageId));
      if (toDelete.length > 0) {
        const { Successful = [] } = await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: dlqUrl,
            Entries: toDelete.map((d, i) => ({ Id: String(i), ReceiptHandle: d.receiptHandle })),
          }),
        );
        const deleted = Successful.map((s) => toDelete[Number(s.Id)]?.messageId ?? '').filter(Boolean);
        journal?.recordDeleted(deleted);
        for (const id of deleted) {
          pending.delete(id);
          failures.delete(id);
          moved.push(id);
        }
        // A copy whose delete failed is remembered as sent: when the original shows up again it is only deleted.
        for (const d of toDelete) if (!deleted.includes(d.messageId)) sentEarlier.add(d.messageId);
      }
      const unsent = ours.filter((d) => !copied.has(d.messageId)).map((d) => d.receiptHandle);
      await this.release(dlqUrl, unsent);
      progress();
    }
    await this.release(dlqUrl, [...others.values()]);
    const interrupted = options.signal?.aborted === true && pending.size > 0;
    const failed = [...failures]
      .filter(([id]) => !moved.includes(id))
      .map(([messageId, f]) => ({ messageId, reason: f.reason }));
    const failedIds = new Set(failed.map((f) => f.messageId));
    const report: RedriveSetReport = {
      rpc: target.rpc,
      total: ids.length,
      moved,
      notFound: interrupted ? [] : [...pending].filter((id) => !failedIds.has(id)),
      failed,
      interrupted,
    };
    journal?.recordEnd(report);
    await this.audit.record({
      who: await this.whoami(),
      action: 'redrive-set',
      rpc: target.rpc,
      what: options.what ?? `${ids.length} selected message(s)`,
      count: moved.length,
      outcome:
        moved.length === ids.length
          ? 'ok'
          : moved.length === 0 && (failed.length > 0 || interrupted)
            ? 'failed'
            : 'partial',
      detail: `${moved.length} of ${ids.length} moved${rate ? ` at <= ${rate}/s` : ''}${report.notFound.length ? `, ${report.notFound.length} no longer in the DLQ` : ''}${failed.length ? `, ${failed.length} refused` : ''}${interrupted ? ', interrupted' : ''}${journal ? ` (journal ${journal.path})` : ''}`,
    });
    return report;
  }

  /** Finds one dead letter by message id (one reading pass); it stays hidden for `hideSeconds` if found. */
  async find(rpcId: string, messageId: string, hideSeconds = 60): Promise<DeadLetter> {
    const pass = await this.readPass(rpcId, { hideSeconds }, (d) => d.messageId === messageId);
    const found = pass.kept[0];
    if (!found)
      throw new OpsError(
        `No message ${messageId} in the DLQ of ${rpcId} (${pass.letters.length} read${pass.complete ? '' : ', the pass ran out of time'}). It may have been redriven or purged, or another reader holds it for a moment.`,
        404,
      );
    return found;
  }

  /** One dead letter by message id, read and released at once (for an editor or a form). */
  async letter(rpcId: string, messageId: string): Promise<DeadLetter> {
    const pass = await this.readPass(rpcId, { hideSeconds: 5 });
    const found = pass.letters.find((d) => d.messageId === messageId);
    if (!found)
      throw new OpsError(
        `No message ${messageId} in the DLQ of ${rpcId} (${pass.letters.length} read). It may have been redriven, purged or edited already.`,
        404,
      );
    return found;
  }

  /** The payload of a dead letter and its event name (for an editor or a form). */
  payloadOf(d: DeadLetter): { eventName: string; payload: unknown } {
    const event = eventOfBody(d.body);
    const detail = asRecord(event?.detail);
    if (!event || !detail || !d.eventName)
      throw new OpsError(
        `Message ${d.messageId} is not an event of the router (its body is not an EventBridge event); it cannot be edited.`,
        422,
      );
    return { eventName: d.eventName, payload: detail.payload };
  }

  /** Checks a payload against the schema of `eventName`: every violation, empty when valid. */
  validatePayload(eventName: string, payload: unknown): Violation[] {
    if (!this.validator.has(eventName))
      throw new OpsError(`The router declares no event "${eventName}".`, 422);
    return this.validator.validate(eventName, payload);
  }

  /**
   * Edit and retry: sends a copy of dead letter `messageId` with `payload` in place of its payload to the
   * RPC's queue, then deletes the original. The copy keeps the original's attributes (DeadLetterId
   * included) and adds RerunId (derived from the original message id: retrying the same edit cannot
   * run it twice), EditedFrom (the original message id) and EditedBy (the operator). The payload is
   * checked against the event's schema first: a {@link PayloadRejected} sends nothing. The delivery
   * record, when there is one, notes the edit (`lastEdit`).
   */
  async edit(rpcId: string, messageId: string, payload: unknown): Promise<EditResult> {
    const who = await this.whoami();
    const target = this.rpc(rpcId);
    const d = await this.find(rpcId, messageId);
    const dlqUrl = await this.queueUrl(target.dlqName);
    try {
      const { eventName } = this.payloadOf(d);
      const violations = this.validatePayload(eventName, payload);
      if (violations.length > 0) throw new PayloadRejected(eventName, violations);
      const wrapper = asRecord(JSON.parse(d.body)) ?? {};
      const event = asRecord(wrapper.event) ?? wrapper;
      const detail = asRecord(event.detail) ?? {};
      const editedEvent = { ...event, detail: { ...detail, payload } };
      const body = JSON.stringify(
        wrapper.event !== undefined ? { ...wrapper, event: editedEvent } : editedEvent,
      );
      const rerunId = `edit-${createHash('sha256').update(`${target.rpc}\u0000${messageId}`).digest('hex').slice(0, 32)}`;
      const { MessageId = '' } = await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: await this.queueUrl(target.queueName),
          MessageBody: body,
          MessageAttributes: copiedAttributes(d, {
            [OPS_ATTRIBUTES.rerunId]: rerunId,
            [OPS_ATTRIBUTES.editedFrom]: messageId,
            [OPS_ATTRIBUTES.editedBy]: who,
          }),
        }),
      );
      // Only once the edited copy is in the queue does the original go.
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: [{ Id: '0', ReceiptHandle: d.receiptHandle }],
        }),
      );
      const recordNoted = d.eventId
        ? await this.noteEdit(d.eventId, target.rpc, {
            by: who,
            at: Date.now(),
            messageId,
            newMessageId: MessageId,
            rerunId,
          })
        : false;
      await this.audit.record({
        who,
        action: 'edit',
        rpc: target.rpc,
        what: `message ${messageId}${d.eventId ? ` (event ${d.eventId})` : ''}`,
        count: 1,
        outcome: 'ok',
        detail: `edited copy ${MessageId} sent with RerunId ${rerunId}`,
      });
      return {
        rpc: target.rpc,
        originalMessageId: messageId,
        messageId: MessageId,
        rerunId,
        ...(d.eventId ? { eventId: d.eventId } : {}),
        recordNoted,
      };
    } catch (error) {
      await this.release(dlqUrl, [d.receiptHandle]);
      if (!(error instanceof PayloadRejected))
        await this.audit.record({
          who,
          action: 'edit',
          rpc: target.rpc,
          what: `message ${messageId}`,
          count: 0,
          outcome: 'failed',
          detail: errorText(error),
        });
      throw error;
    }
  }

  /** Sets `lastEdit` on the delivery record (eventId, rpc) if it exists; false when there is none. */
  private async noteEdit(eventId: string, rpc: string, edit: Record<string, unknown>): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.deliveriesTable,
          Key: { eventId, rpc },
          UpdateExpression: 'SET #edit = :edit',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#edit': 'lastEdit', '#pk': 'eventId' },
          ExpressionAttributeValues: { ':edit': edit },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Purges the RPC's DLQ; returns how many messages it held (approximately, as SQS counts them). */
  async purge(rpcId: string): Promise<{ rpc: string; queueName: string; count: number }> {
    const target = this.rpc(rpcId);
    const who = await this.whoami();
    const a = await this.attributes(target.dlqName);
    const count =
      Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
    try {
      await this.sqs.send(new PurgeQueueCommand({ QueueUrl: await this.queueUrl(target.dlqName) }));
    } catch (error) {
      await this.audit.record({
        who,
        action: 'purge',
        rpc: target.rpc,
        what: target.dlqName,
        count: 0,
        outcome: 'failed',
        detail: errorText(error),
      });
      throw new OpsError(`Purge of ${target.dlqName} was refused: ${errorText(error)}`, 409);
    }
    await this.audit.record({
      who,
      action: 'purge',
      rpc: target.rpc,
      what: target.dlqName,
      count,
      outcome: 'ok',
    });
    return { rpc: target.rpc, queueName: target.dlqName, count };
  }

  private replaysOf: Replays | undefined;

  /** Replays from the bus archive (replay.ts); needs the `events` client. */
  get replays(): Replays {
    const events = this.options.events;
    if (!events) throw new OpsError('Replays need an EventBridge client; none was given to Operations.', 500);
    this.replaysOf ??= new Replays(
      this.options.spec,
      events,
      this.doc,
      this.deliveriesTable,
      this.audit,
      () => this.whoami(),
    );
    return this.replaysOf;
  }

  /** Messages waiting or in flight in the queues of `rpcIds` (a replay's workers are done at 0). */
  async pendingIn(rpcIds: readonly string[]): Promise<number> {
    const depths = await Promise.all(rpcIds.map((id) => this.depth(this.rpc(id).queueName)));
    return depths.reduce((n, d) => n + ('error' in d ? 0 : d.visible + d.inFlight + d.delayed), 0);
  }

  /** The newest audit entries. */
  auditTrail(limit = 50): Promise<AuditEntry[]> {
    return this.audit.list(limit);
  }
}
