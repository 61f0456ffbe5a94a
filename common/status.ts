/**
 * The delivery status of one event, RPC by RPC, from one Query on the deliveries table (PK eventId).
 *
 * The event's name comes from its delivery records (each carries `eventName`) or, before any RPC has
 * seen the event, from its publish receipt (receipts.ts: same partition, sort key `#publish`), else from the
 * `event` the client passes. Every RPC subscribed to that event is listed: without a record it is PENDING.
 * An id with no record and no event name is unknown (404). A subscription with a content filter the
 * event does not match never gets a record, so it stays PENDING.
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DELIVERIES_TABLE, type DeliveryRecord } from './contracts.ts';
import { isReceipt, type PublishReceipt } from './receipts.ts';

/** One RPC's state for the event. Times are ISO-8601. */
export type RpcDeliveryState =
  | {
      readonly rpc: string;
      readonly status: 'PENDING';
      /** The subscription has a content filter: if this event does not match it, it stays PENDING for good. */
      readonly filtered?: true;
    }
  | {
      readonly rpc: string;
      readonly status: 'IN_PROGRESS';
      readonly attempts: number;
      readonly startedAt?: string;
      /** The claim ran out (the worker stopped); the queue's next receive retries it. */
      readonly lockExpired: boolean;
      readonly lastError?: DeliveryRecord['lastError'];
    }
  | {
      readonly rpc: string;
      readonly status: 'COMPLETED';
      readonly attempts: number;
      readonly completedAt?: string;
    }
  | {
      readonly rpc: string;
      readonly status: 'FAILED';
      readonly attempts: number;
      readonly lastError?: DeliveryRecord['lastError'];
      readonly updatedAt: string;
    }
  | {
      readonly rpc: string;
      readonly status: 'DEAD';
      readonly attempts: number;
      readonly lastError?: DeliveryRecord['lastError'];
      readonly deadAt?: string;
    };

export interface EventStatus {
  readonly eventId: string;
  /** Undefined only when the records do not say and the client did not either. */
  readonly event?: string;
  readonly correlationId?: string;
  /** eventId of the event whose handling published this one (from any record that knows it). */
  readonly causationId?: string;
  /** True when every listed RPC is COMPLETED. */
  readonly completed: boolean;
  /** Count per status. */
  readonly summary: Readonly<Record<RpcDeliveryState['status'], number>>;
  /** Subscribed RPCs first (in subscription order), then RPCs that have records but are no longer subscribed. */
  readonly rpcs: readonly RpcDeliveryState[];
  /** The bus did not accept the event at its last publish through the API (its receipt says so). */
  readonly notOnBus?: NotOnBus;
}

export interface NotOnBus {
  readonly at: string;
  readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean };
  /** How to get it onto the bus. */
  readonly hint: string;
}

/**
 * `status` with what the event's publish receipt adds: the correlationId when no record carries it,
 * and `notOnBus` when the bus did not accept the event (receipts.ts).
 */
export function withReceipt(status: EventStatus, receipt: PublishReceipt | undefined): EventStatus {
  if (!receipt) return status;
  const notSent = receipt.notSent;
  return {
    ...status,
    ...(status.correlationId === undefined ? { correlationId: receipt.correlationId } : {}),
    ...(notSent
      ? {
          notOnBus: {
            at: new Date(notSent.at).toISOString(),
            error: { code: notSent.code, message: notSent.message, retryable: notSent.retryable },
            hint:
              receipt.idempotencyKey !== undefined
                ? `The event never reached the bus. POST it again with idempotencyKey ${JSON.stringify(receipt.idempotencyKey)}: the same event (this eventId) is sent.`
                : 'The event never reached the bus. Publish it again; it had no idempotencyKey, so the new publish gets a new eventId (send one to make retries safe).',
          },
        }
      : {}),
  };
}

const iso = (ms: number | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : undefined);

/** The state shown for one delivery record (`now` decides whether an in-progress claim ran out). */
export function stateOf(record: DeliveryRecord, now: number): RpcDeliveryState {
  const base = { rpc: record.rpc, attempts: record.attempts ?? 0 };
  const lastError = record.lastError ? { lastError: record.lastError } : {};
  switch (record.status) {
    case 'COMPLETED':
      return { ...base, status: 'COMPLETED', ...optional('completedAt', iso(record.completedAt)) };
    case 'FAILED':
      return { ...base, status: 'FAILED', ...lastError, updatedAt: iso(record.updatedAt) ?? '' };
    case 'DEAD':
      return { ...base, status: 'DEAD', ...lastError, ...optional('deadAt', iso(record.deadAt)) };
    default:
      return {
        ...base,
        status: 'IN_PROGRESS',
        ...optional('startedAt', iso(record.firstAttemptAt)),
        lockExpired: typeof record.lockExpiresAt === 'number' && record.lockExpiresAt <= now,
        ...lastError,
      };
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** Every delivery record of `eventId` (its publish receipt left out). */
export async function queryDeliveries(
  client: DynamoDBDocumentClient,
  tableName: string,
  eventId: string,
): Promise<DeliveryRecord[]> {
  return (await queryEvent(client, tableName, eventId)).records;
}

/**
 * Every delivery record of `eventId` and its publish receipt, when it was published through the API
 * (one Query; follows pages when an event has very many RPCs).
 */
export async function queryEvent(
  client: DynamoDBDocumentClient,
  tableName: string,
  eventId: string,
): Promise<{ readonly records: DeliveryRecord[]; readonly receipt?: PublishReceipt }> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :id',
        ExpressionAttributeNames: { '#pk': DELIVERIES_TABLE.partitionKey },
        ExpressionAttributeValues: { ':id': eventId },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const receipt = items.find(isReceipt) as PublishReceipt | undefined;
  const records = items.filter((item) => !isReceipt(item)) as unknown as DeliveryRecord[];
  return receipt ? { records, receipt } : { records };
}

export interface StatusContext {
  /** Event name -> RPC ids subscribed to it. */
  readonly subscriptions: Readonly<Record<string, readonly string[]>>;
  /** Event name -> RPC ids whose subscription has a content filter. */
  readonly filtered?: Readonly<Record<string, readonly string[]>>;
  /** The event name the client says the id belongs to; records win when they disagree. */
  readonly eventHint?: string;
  /** Epoch ms (decides whether an in-progress claim ran out). @default Date.now() */
  readonly now?: number;
}

/** Builds the status from the records; undefined when the id is unknown (no records and no event name). */
export function buildStatus(
  eventId: string,
  records: readonly DeliveryRecord[],
  context: StatusContext,
): EventStatus | undefined {
  const { subscriptions, eventHint } = context;
  const now = context.now ?? Date.now();
  const event = records.find((record) => record.eventName)?.eventName ?? eventHint;
  if (records.length === 0 && (eventHint === undefined || !Object.hasOwn(subscriptions, eventHint)))
    return undefined;
  const filtered = new Set(event ? (context.filtered?.[event] ?? []) : []);
  const byRpc = new Map(records.map((record) => [record.rpc, record]));
  const subscribed = event ? (subscriptions[event] ?? []) : [];
  const rpcs: RpcDeliveryState[] = [];
  for (const rpc of subscribed) {
    const record = byRpc.get(rpc);
    rpcs.push(
      record
        ? stateOf(record, now)
        : { rpc, status: 'PENDING', ...(filtered.has(rpc) ? { filtered: true } : {}) },
    );
    byRpc.delete(rpc);
  }
  for (const record of [...byRpc.values()].sort((a, b) => (a.rpc < b.rpc ? -1 : 1)))
    rpcs.push(stateOf(record, now));
  const summary = { PENDING: 0, IN_PROGRESS: 0, COMPLETED: 0, FAILED: 0, DEAD: 0 };
  for (const state of rpcs) summary[state.status]++;
  const correlationId = records.find((record) => record.correlationId)?.correlationId;
  const causationId = records.find((record) => record.causationId)?.causationId;
  return {
    eventId,
    ...(event !== undefined ? { event } : {}),
    ...(correlationId !== undefined ? { correlationId } : {}),
    ...(causationId !== undefined ? { causationId } : {}),
    completed: rpcs.length > 0 && summary.COMPLETED === rpcs.length,
    summary,
    rpcs,
  };
}
