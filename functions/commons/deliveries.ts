/**
 * The deliveries table: one item per (eventId, rpc), which is both the dedup record and the
 * delivery's visible status.
 *
 * One conditional write claims a delivery; one write records how it ended. Whether a claim still
 * holds is judged from the stored `lockExpiresAt` and `expiresAt`, never from the item's presence
 * (TTL deletion can lag by days).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { DeliveryRecord, DeliveryStatus } from './contracts.ts';
import type { ErrorSummary } from './errors.ts';

/** The key of a delivery: its idempotency key. */
export interface DeliveryKey {
  readonly eventId: string;
  readonly rpc: string;
}

/** What a claim found. */
export type ClaimOutcome =
  /** This worker holds the delivery until `lockExpiresAt`; `attempt` counts handler runs started. */
  | { readonly kind: 'claimed'; readonly attempt: number; readonly lockExpiresAt: number }
  /** Already handled: acknowledge without running. */
  | { readonly kind: 'completed'; readonly attempts: number }
  /** Another worker holds a live claim: retry later (after `lockExpiresAt` when known). */
  | { readonly kind: 'busy'; readonly attempts: number; readonly lockExpiresAt?: number };

export interface ClaimRequest {
  readonly eventName: string;
  readonly correlationId?: string;
  /** Stored when the event was published while handling another one. */
  readonly causationId?: string;
  /** Epoch ms. */
  readonly now: number;
  /** How long the claim holds: the Lambda's remaining time. */
  readonly lockMs: number;
}

export interface DeadRequest {
  readonly error: ErrorSummary;
  readonly now: number;
  /** The attempt this worker claimed; undefined when the message was rejected before any claim. */
  readonly attempt?: number;
  readonly eventName: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** `dead`: recorded; `completed`: the delivery had already completed (nothing written); `lost`: another worker now holds it. */
export type DeadOutcome = 'dead' | 'completed' | 'lost';

const STATUS: { readonly [S in DeliveryStatus]: S } = {
  IN_PROGRESS: 'IN_PROGRESS',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  DEAD: 'DEAD',
};

/** Attribute names used in expressions (several are DynamoDB reserved words). */
const NAMES = {
  '#pk': 'eventId',
  '#status': 'status',
  '#attempts': 'attempts',
  '#lock': 'lockExpiresAt',
  '#first': 'firstAttemptAt',
  '#updated': 'updatedAt',
  '#completedAt': 'completedAt',
  '#result': 'result',
  '#lastError': 'lastError',
  '#deadAt': 'deadAt',
  '#eventName': 'eventName',
  '#corr': 'correlationId',
  '#cause': 'causationId',
  '#expires': 'expiresAt',
} as const;

/** Only the names an expression uses (DynamoDB rejects unused ones). */
function namesFor(...expressions: string[]): Record<string, string> {
  const text = expressions.join(' ');
  return Object.fromEntries(Object.entries(NAMES).filter(([alias]) => new RegExp(`${alias}\\b`).test(text)));
}

function isConditionFailure(error: unknown): error is Error & { Item?: Record<string, AttributeValue> } {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** What a write stores about the event itself: its name and its links. */
interface EventFields {
  readonly eventName: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** The SET clauses and values that store {@link EventFields} and the record's expiry. */
function eventFieldWrites(
  request: EventFields,
  expires: number,
): { readonly set: string[]; readonly values: Record<string, unknown> } {
  const set = ['#eventName = :eventName', '#expires = :expires'];
  if (request.correlationId) set.push('#corr = :corr');
  if (request.causationId) set.push('#cause = :cause');
  return {
    set,
    values: {
      ':eventName': request.eventName,
      ':expires': expires,
      ...(request.correlationId ? { ':corr': request.correlationId } : {}),
      ...(request.causationId ? { ':cause': request.causationId } : {}),
    },
  };
}

/** The fields a failed claim needs from the raw (marshalled) item DynamoDB returns with the failure. */
function readRawItem(
  item: Record<string, AttributeValue>,
): Pick<DeliveryRecord, 'status' | 'attempts' | 'lockExpiresAt'> {
  const number = (value: AttributeValue | undefined) => (value && 'N' in value ? Number(value.N) : undefined);
  const status = item.status && 'S' in item.status ? (item.status.S as DeliveryStatus) : STATUS.FAILED;
  return { status, attempts: number(item.attempts) ?? 0, lockExpiresAt: number(item.lockExpiresAt) };
}

/** Reads and writes delivery records. */
export class DeliveryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    /** Seconds a record is kept (sets `expiresAt`). */
    private readonly retentionSeconds: number,
  ) {}

  /**
   * Claims a delivery with one conditional write. It succeeds for a new delivery, one that FAILED or
   * went DEAD (a redrive), one whose IN_PROGRESS claim has expired (its worker died), and one whose
   * record has outlived its retention. Otherwise it reports a duplicate (`completed`) or a live claim
   * (`busy`) from the item DynamoDB returns with the failure, or from one consistent read where the
   * API does not return it.
   */
  async claim(key: DeliveryKey, request: ClaimRequest): Promise<ClaimOutcome> {
    const lockExpiresAt = request.now + request.lockMs;
    const event = eventFieldWrites(request, this.expiresAt(request.now));
    const set = [
      '#status = :inProgress',
      '#attempts = if_not_exists(#attempts, :zero) + :one',
      '#lock = :lock',
      '#first = if_not_exists(#first, :now)',
      '#updated = :now',
      ...event.set,
    ];
    const update = `SET ${set.join(', ')} REMOVE #completedAt, #result, #deadAt`;
    const condition =
      'attribute_not_exists(#pk) OR #status IN (:failed, :dead) OR (#status = :inProgress AND #lock < :now) ' +
      'OR #expires < :nowSeconds';
    try {
      const output = await this.update(
        key,
        update,
        condition,
        {
          ':inProgress': STATUS.IN_PROGRESS,
          ':failed': STATUS.FAILED,
          ':dead': STATUS.DEAD,
          ':zero': 0,
          ':one': 1,
          ':lock': lockExpiresAt,
          ':now': request.now,
          ':nowSeconds': Math.floor(request.now / 1000),
          ...event.values,
        },
        { ReturnValues: 'UPDATED_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' },
      );
      const attempt = Number(output.Attributes?.attempts ?? 1);
      return { kind: 'claimed', attempt, lockExpiresAt };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = error.Item ? readRawItem(error.Item) : await this.get(key);
      if (existing?.status === STATUS.COMPLETED) return { kind: 'completed', attempts: existing.attempts };
      return { kind: 'busy', attempts: existing?.attempts ?? 0, lockExpiresAt: existing?.lockExpiresAt };
    }
  }

  /** Records COMPLETED with the (bounded) result. False when this worker no longer held the claim. */
  async complete(
    key: DeliveryKey,
    attempt: number,
    result: string | undefined,
    now: number,
  ): Promise<boolean> {
    const update = `SET #status = :completed, #completedAt = :now, #updated = :now${result === undefined ? '' : ', #result = :result'} REMOVE #lock`;
    return this.ownedWrite(key, attempt, update, {
      ':completed': STATUS.COMPLETED,
      ':now': now,
      ...(result === undefined ? {} : { ':result': result }),
    });
  }

  /** Records a retryable failure of this worker's attempt. False when this worker no longer held the claim. */
  async fail(key: DeliveryKey, attempt: number, error: ErrorSummary, now: number): Promise<boolean> {
    return this.ownedWrite(
      key,
      attempt,
      'SET #status = :failed, #updated = :now, #lastError = :error REMOVE #lock',
      {
        ':failed': STATUS.FAILED,
        ':now': now,
        ':error': error,
      },
    );
  }

  /**
   * Records DEAD before the message is sent to the DLQ. With `attempt` (after a claim) only while
   * this worker holds the claim; without (rejected before any claim) unless the delivery completed.
   */
  async markDead(key: DeliveryKey, request: DeadRequest): Promise<DeadOutcome> {
    const values: Record<string, unknown> = {
      ':dead': STATUS.DEAD,
      ':now': request.now,
      ':error': request.error,
    };
    if (request.attempt !== undefined) {
      const owned = await this.ownedWrite(
        key,
        request.attempt,
        'SET #status = :dead, #deadAt = :now, #updated = :now, #lastError = :error REMOVE #lock',
        values,
      );
      return owned ? 'dead' : 'lost';
    }
    const event = eventFieldWrites(request, this.expiresAt(request.now));
    const set = [
      '#status = :dead',
      '#deadAt = :now',
      '#updated = :now',
      '#lastError = :error',
      '#attempts = if_not_exists(#attempts, :zero)',
      ...event.set,
    ];
    const update = `SET ${set.join(', ')}`;
    const condition = 'attribute_not_exists(#pk) OR #status <> :completed';
    try {
      await this.update(key, update, condition, {
        ...values,
        ':zero': 0,
        ':completed': STATUS.COMPLETED,
        ...event.values,
      });
      return 'dead';
    } catch (error) {
      if (isConditionFailure(error)) return 'completed';
      throw error;
    }
  }

  /** The record of a delivery (consistent read), or undefined. */
  async get(key: DeliveryKey): Promise<DeliveryRecord | undefined> {
    const output = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { eventId: key.eventId, rpc: key.rpc },
        ConsistentRead: true,
      }),
    );
    return output.Item as DeliveryRecord | undefined;
  }

  /** One conditional update of a delivery's item; the attribute names come from the expressions. */
  private update(
    key: DeliveryKey,
    update: string,
    condition: string,
    values: Record<string, unknown>,
    returns: Pick<UpdateCommandInput, 'ReturnValues' | 'ReturnValuesOnConditionCheckFailure'> = {},
  ): Promise<UpdateCommandOutput> {
    return this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { eventId: key.eventId, rpc: key.rpc },
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: namesFor(update, condition),
        ExpressionAttributeValues: values,
        ...returns,
      }),
    );
  }

  private expiresAt(now: number): number {
    return Math.floor(now / 1000) + this.retentionSeconds;
  }

  /** An update that applies only while `attempt` is still the live claim. */
  private async ownedWrite(
    key: DeliveryKey,
    attempt: number,
    update: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    const condition = '#status = :inProgress AND #attempts = :attempt';
    try {
      await this.update(key, update, condition, {
        ...values,
        ':inProgress': STATUS.IN_PROGRESS,
        ':attempt': attempt,
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
