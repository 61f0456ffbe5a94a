/**
 * What the dashboard reads from the deliveries table, through the AWS APIs only (real SDK v3 clients
 * pointed at the runtime's endpoint): recent deliveries and the state of one event's deliveries.
 * Everything about queues and DLQs (depths, peek, failure groups, redrive, edit, purge, audit) is
 * lib/ops, the module the CLI calls too.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryStatus } from '../../../common/contracts.ts';
import { queryDeliveries } from '../../../common/status.ts';
import type { DeadLetterView } from '../../ops/dead-letter.ts';
import { type Graph, subscribersOf } from './graph.ts';

export type { QueueDepth, RpcDepths } from '../../ops/operations.ts';

/** A DLQ message as the peek shows it. */
export type PeekedMessage = DeadLetterView;

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
  readonly lastError?: {
    readonly name: string;
    readonly message: string;
    readonly retryable: boolean;
    /** The bounded stack of the error the RPC threw, when it threw one. */
    readonly stack?: string;
  };
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
  readonly dynamodb: DynamoDBClient;
  /** Items a recent-deliveries scan reads at most. @default 5000 */
  readonly scanBound?: number;
}

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
            ...(str(lastError.stack) ? { stack: str(lastError.stack) } : {}),
          },
        }
      : {}),
  };
}

/** The dashboard's reads of the deliveries table. */
export class DashboardData {
  private readonly currentGraph: () => Graph;
  private readonly doc: DynamoDBDocumentClient;
  private readonly scanBound: number;

  constructor(options: DataOptions) {
    const graph = options.graph;
    this.currentGraph = typeof graph === 'function' ? graph : () => graph;
    this.doc = DynamoDBDocumentClient.from(options.dynamodb);
    this.scanBound = options.scanBound ?? 5000;
  }
  /** The graph of what runs now. */
  private get graph(): Graph {
    return this.currentGraph();
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
