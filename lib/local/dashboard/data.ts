/**
 * What the dashboard reads and does, through the AWS APIs only (real SDK v3 clients pointed at the
 * runtime's endpoint): queue and DLQ depths, a DLQ peek, a redrive, recent deliveries and the state
 * of one event's deliveries. Knows queues and the deliveries table by the naming convention.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../../../functions/commons/concurrency.ts';
import { type DeliveryStatus, DLQ_ATTRIBUTES } from '../../../functions/commons/contracts.ts';
import { queryDeliveries } from '../../../functions/publish/status.ts';
import { type Graph, subscribersOf } from './graph.ts';

/** Depth of one queue, or why it could not be read. */
export type QueueDepth =
  | {
      readonly name: string;
      readonly visible: number;
      readonly inFlight: number;
      readonly delayed: number;
    }
  | { readonly name: string; readonly error: string };

export interface RpcDepths {
  readonly rpc: string;
  readonly queue: QueueDepth;
  readonly dlq: QueueDepth;
}

/** A DLQ message as the peek shows it. */
export interface PeekedMessage {
  readonly messageId: string;
  /** The event name (detail-type) from the body, when the body is an event. */
  readonly eventName?: string;
  readonly eventId?: string;
  readonly errorType?: string;
  readonly errorMessage?: string;
  readonly attempts?: string;
  readonly failedAt?: string;
  readonly receiveCount?: number;
  /** The body, cut to a readable length. */
  readonly body: string;
}

/** One row of the deliveries table as the dashboard shows it. */
export interface DeliveryRow {
  readonly eventId: string;
  readonly rpc: string;
  readonly status: DeliveryStatus;
  readonly eventName: string;
  readonly attempts: number;
  readonly updatedAt: number;
  readonly correlationId?: string;
  readonly completedAt?: number;
  readonly deadAt?: number;
  readonly lastError?: { readonly name: string; readonly message: string; readonly retryable: boolean };
  /** Epoch ms of the first claim (the delivery view). */
  readonly firstAttemptAt?: number;
  /** The handler's stored result (JSON text, bounded by the worker). */
  readonly result?: string;
  /** eventId of the event whose handling published this one. */
  readonly causationId?: string;
}

export interface RecentDeliveries {
  readonly items: readonly DeliveryRow[];
  /** Items read by the bounded scan (the newest `items` are chosen among these). */
  readonly scanned: number;
  /** True when the scan stopped at its bound before reading the whole table. */
  readonly truncated: boolean;
  readonly error?: string;
}

/** One subscribed RPC's state for one event. */
export interface LookupRow {
  readonly rpc: string;
  readonly status: DeliveryStatus | 'PENDING';
  /** The RPC subscribes to the event in the spec (false: a record exists for an RPC the spec no longer routes to). */
  readonly subscribed: boolean;
  /** Every subscription of this RPC to the event has a filter: PENDING may mean "filtered out". */
  readonly filtered: boolean;
  readonly record?: DeliveryRow;
}

export interface EventLookup {
  readonly eventId: string;
  /** From the records, else from the caller; absent when neither knows it. */
  readonly eventName?: string;
  readonly rows: readonly LookupRow[];
  readonly error?: string;
}

export interface RedriveResult {
  readonly rpc: string;
  readonly taskHandle: string;
  readonly sourceArn: string;
  readonly destinationArn: string;
}

/** A request the dashboard cannot serve as asked (unknown RPC, ...): becomes a 4xx. */
export class DashboardRequestError extends Error {
  override readonly name = 'DashboardRequestError';
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface DataOptions {
  /** The router's graph, or a function giving the one running now (it changes with each reload). */
  readonly graph: Graph | (() => Graph);
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  /** Seconds a peeked message stays hidden before it is released again. @default 5 */
  readonly peekVisibilitySeconds?: number;
  /** Items a recent-deliveries scan reads at most. @default 5000 */
  readonly scanBound?: number;
}

const BODY_PREVIEW_CHARS = 4000;

function message(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

const STATUSES = new Set<string>(['IN_PROGRESS', 'COMPLETED', 'FAILED', 'DEAD']);

/** Reads a deliveries-table item (checked field by field); undefined for an item that is not a delivery record. */
function toDeliveryRow(raw: object): DeliveryRow | undefined {
  const item = raw as Record<string, unknown>;
  const eventId = str(item.eventId);
  const rpc = str(item.rpc);
  const status = str(item.status);
  if (!eventId || !rpc || !status || !STATUSES.has(status)) return undefined;
  const lastError = record(item.lastError);
  const correlationId = str(item.correlationId);
  const completedAt = num(item.completedAt);
  const deadAt = num(item.deadAt);
  const firstAttemptAt = num(item.firstAttemptAt);
  const result = str(item.result);
  const causationId = str(item.causationId);
  return {
    eventId,
    rpc,
    status: status as DeliveryStatus,
    eventName: str(item.eventName) ?? '',
    attempts: num(item.attempts) ?? 0,
    updatedAt: num(item.updatedAt) ?? 0,
    ...(correlationId ? { correlationId } : {}),
    ...(completedAt !== undefined ? { completedAt } : {}),
    ...(deadAt !== undefined ? { deadAt } : {}),
    ...(firstAttemptAt !== undefined ? { firstAttemptAt } : {}),
    ...(result !== undefined ? { result } : {}),
    ...(causationId ? { causationId } : {}),
    ...(lastError
      ? {
          lastError: {
            name: str(lastError.name) ?? 'Error',
            message: str(lastError.message) ?? '',
            retryable: lastError.retryable === true,
          },
        }
      : {}),
  };
}

/** Event name and id from a queue message body: `{rpc, event}` or a bare event. */
function describeBody(body: string): { eventName?: string; eventId?: string } {
  try {
    const parsed = record(JSON.parse(body));
    const event = record(parsed?.event) ?? parsed;
    const eventName = str(event?.['detail-type']);
    const eventId = str(record(record(event?.detail)?.metadata)?.eventId);
    return { ...(eventName ? { eventName } : {}), ...(eventId ? { eventId } : {}) };
  } catch {
    return {};
  }
}

function peeked(m: Message): PeekedMessage {
  const attr = (name: string) => m.MessageAttributes?.[name]?.StringValue;
  const body = m.Body ?? '';
  const fromBody = describeBody(body);
  const eventId = fromBody.eventId ?? attr(DLQ_ATTRIBUTES.eventId);
  const fields = {
    errorType: attr(DLQ_ATTRIBUTES.errorType),
    errorMessage: attr(DLQ_ATTRIBUTES.errorMessage),
    attempts: attr(DLQ_ATTRIBUTES.attempts),
    failedAt: attr(DLQ_ATTRIBUTES.failedAt),
  };
  const receiveCount = num(m.Attributes?.ApproximateReceiveCount);
  return {
    messageId: m.MessageId ?? '',
    ...(fromBody.eventName ? { eventName: fromBody.eventName } : {}),
    ...(eventId ? { eventId } : {}),
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    ...(receiveCount !== undefined ? { receiveCount } : {}),
    body: body.length > BODY_PREVIEW_CHARS ? `${body.slice(0, BODY_PREVIEW_CHARS)}…` : body,
  };
}

/** The dashboard's reads and actions against the runtime. */
export class DashboardData {
  private readonly currentGraph: () => Graph;
  private readonly sqs: SQSClient;
  private readonly doc: DynamoDBDocumentClient;
  private readonly peekVisibility: number;
  private readonly scanBound: number;
  private readonly urls = new Map<string, string>();

  constructor(options: DataOptions) {
    const graph = options.graph;
    this.currentGraph = typeof graph === 'function' ? graph : () => graph;
    this.sqs = options.sqs;
    this.doc = DynamoDBDocumentClient.from(options.dynamodb);
    this.peekVisibility = options.peekVisibilitySeconds ?? 5;
    this.scanBound = options.scanBound ?? 5000;
  }
  /** The graph of what runs now. */
  private get graph(): Graph {
    return this.currentGraph();
  }

  private rpc(id: string) {
    const rpc = this.graph.rpcs.find((r) => r.id === id);
    if (!rpc)
      throw new DashboardRequestError(
        `The router has no RPC "${id}". Known RPCs: ${this.graph.rpcs.map((r) => r.id).join(', ') || 'none'}.`,
        404,
      );
    return rpc;
  }

  private async queueUrl(name: string): Promise<string> {
    const cached = this.urls.get(name);
    if (cached) return cached;
    const { QueueUrl } = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`GetQueueUrl returned no URL for ${name}.`);
    this.urls.set(name, QueueUrl);
    return QueueUrl;
  }

  /** Calls `fn` with the queue's URL; forgets a cached URL whose queue has gone, so the next call looks again. */
  private async withQueue<T>(name: string, fn: (url: string) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.queueUrl(name));
    } catch (error) {
      if (error instanceof QueueDoesNotExist) {
        this.urls.delete(name);
        throw new DashboardRequestError(
          `Queue ${name} does not exist on the runtime. Is the app synthesized and the runtime started from it?`,
          404,
        );
      }
      throw error;
    }
  }

  private async attributes(name: string): Promise<Record<string, string>> {
    return this.withQueue(name, async (url) => {
      const { Attributes = {} } = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'QueueArn',
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return Attributes;
    });
  }

  private async depth(name: string): Promise<QueueDepth> {
    try {
      const a = await this.attributes(name);
      return {
        name,
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    } catch (error) {
      return { name, error: message(error) };
    }
  }

  /** Queue and DLQ depth of every RPC, in graph order. */
  async depths(): Promise<RpcDepths[]> {
    return mapWithConcurrency(this.graph.rpcs, 8, async (rpc) => {
      const [queue, dlq] = await Promise.all([this.depth(rpc.queueName), this.depth(rpc.dlqName)]);
      return { rpc: rpc.id, queue, dlq };
    });
  }

  private async arn(name: string): Promise<string> {
    const arn = (await this.attributes(name)).QueueArn;
    if (!arn) throw new Error(`Queue ${name} reported no QueueArn.`);
    return arn;
  }

  /**
   * Up to `max` messages of the RPC's DLQ. Messages are received with a short visibility timeout (a
   * receive with timeout 0 would return the same few messages again and again) and released right
   * after, so a redrive started next moves them too.
   */
  async peek(rpcId: string, max = 10): Promise<PeekedMessage[]> {
    const rpc = this.rpc(rpcId);
    const limit = Math.max(1, Math.min(100, Math.floor(max)));
    return this.withQueue(rpc.dlqName, async (url) => {
      const seen = new Map<string, Message>();
      while (seen.size < limit) {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(10, limit - seen.size),
            VisibilityTimeout: this.peekVisibility,
            WaitTimeSeconds: 0,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
        );
        const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
        if (fresh.length === 0) break;
        for (const m of fresh) seen.set(m.MessageId as string, m);
      }
      await this.release(url, [...seen.values()]);
      return [...seen.values()].map(peeked);
    });
  }

  /** Makes peeked messages visible again; if this fails they come back after the peek visibility anyway. */
  private async release(url: string, messages: readonly Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const batch = messages.slice(i, i + 10);
      await this.sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: batch.map((m, j) => ({
              Id: String(j),
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        )
        .catch(() => undefined);
    }
  }

  /** Starts moving the RPC's DLQ back into its queue (StartMessageMoveTask with an explicit destination). */
  async redrive(rpcId: string): Promise<RedriveResult> {
    const rpc = this.rpc(rpcId);
    const [sourceArn, destinationArn] = await Promise.all([this.arn(rpc.dlqName), this.arn(rpc.queueName)]);
    try {
      const { TaskHandle } = await this.sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }),
      );
      return { rpc: rpc.id, taskHandle: TaskHandle ?? '', sourceArn, destinationArn };
    } catch (error) {
      throw new DashboardRequestError(`Redrive of ${rpc.dlqName} was refused: ${message(error)}`, 409);
    }
  }

  /** The newest `limit` delivery records by updatedAt, from a scan bounded by `scanBound` items. */
  async recentDeliveries(limit = 100): Promise<RecentDeliveries> {
    const rows: DeliveryRow[] = [];
    let scanned = 0;
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.doc.send(
          new ScanCommand({
            TableName: this.graph.deliveriesTable,
            Limit: Math.min(1000, this.scanBound - scanned),
            ExclusiveStartKey: start,
          }),
        );
        scanned += page.Items?.length ?? 0;
        for (const item of page.Items ?? []) {
          const row = toDeliveryRow(item);
          if (row) rows.push(row);
        }
        start = page.LastEvaluatedKey;
      } while (start && scanned < this.scanBound);
    } catch (error) {
      return { items: [], scanned, truncated: false, error: this.tableError(error) };
    }
    rows.sort(
      (a, b) => b.updatedAt - a.updatedAt || a.eventId.localeCompare(b.eventId) || a.rpc.localeCompare(b.rpc),
    );
    return { items: rows.slice(0, Math.max(1, limit)), scanned, truncated: start !== undefined };
  }

  /**
   * Every subscribed RPC's state for one event: its record, or PENDING when it has none yet.
   * `eventName` names the event when no record exists yet to tell it.
   */
  async lookup(eventId: string, eventName?: string): Promise<EventLookup> {
    if (!eventId) throw new DashboardRequestError('Give an eventId to look up.');
    let records: DeliveryRow[];
    try {
      const items = await queryDeliveries(this.doc, this.graph.deliveriesTable, eventId);
      records = items.flatMap((item) => toDeliveryRow(item) ?? []);
    } catch (error) {
      return { eventId, rows: [], error: this.tableError(error) };
    }
    const name = records.find((r) => r.eventName)?.eventName || eventName || undefined;
    const byRpc = new Map(records.map((r) => [r.rpc, r]));
    const rows: LookupRow[] = [];
    for (const s of name ? subscribersOf(this.graph, name) : []) {
      const rec = byRpc.get(s.rpc);
      byRpc.delete(s.rpc);
      rows.push({
        rpc: s.rpc,
        status: rec?.status ?? 'PENDING',
        subscribed: true,
        filtered: s.filtered,
        ...(rec ? { record: rec } : {}),
      });
    }
    for (const rec of byRpc.values())
      rows.push({ rpc: rec.rpc, status: rec.status, subscribed: false, filtered: false, record: rec });
    return { eventId, ...(name ? { eventName: name } : {}), rows };
  }

  private tableError(error: unknown): string {
    if (error instanceof Error && error.name === 'ResourceNotFoundException')
      return `The deliveries table ${this.graph.deliveriesTable} does not exist on the runtime yet (it is created from the synthesized templates).`;
    return `Reading the deliveries table ${this.graph.deliveriesTable} failed: ${message(error)}`;
  }
}
