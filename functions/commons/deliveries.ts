/**
 * The deliveries table: one item per (eventId, rpc), which is both the dedup record and the
 * delivery's visible status.
 *
 * One conditional write claims a delivery; one write records how it ended. Whether a claim still
 * holds is judged from the stored `lockExpiresAt` and `expiresAt`, never from the item's presence
 * (TTL deletion can lag by days).
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { DeliveryRecord, DeliveryStatus } from '../../common/contracts.ts';
import type { ErrorSummary } from './errors.ts';

/** The key of a delivery: its idempotency key. */
export interface DeliveryKey {
  readonly eventId: string;
  readonly rpc: string;
}

/** Why a claim was taken. */
export type ClaimKind =
  /** A delivery never claimed before. */
  | 'new'
  /** A FAILED delivery whose backoff is over, or one whose worker died (claim expired). */
  | 'next'
  /** The message is a redrive of the DEAD delivery's dead letter: a fresh attempt budget. */
  | 'redrive'
  /** The message is an operator re-run (a new `RerunId`): a fresh attempt budget, whatever the state. */
  | 'rerun';

/** What a claim found. */
export type ClaimOutcome =
  /**
   * This worker holds the delivery until `lockExpiresAt`; `attempt` counts handler runs started (all
   * budgets), `run` the runs of the current budget (1 on the first run, and after a redrive or re-run).
   */
  | {
      readonly kind: 'claimed';
      readonly via: ClaimKind;
      readonly attempt: number;
      readonly run: number;
      readonly lockExpiresAt: number;
    }
  /** Already handled: acknowledge without running. */
  | { readonly kind: 'completed'; readonly attempts: number }
  /** Dead-lettered, waiting for an operator: acknowledge without running. */
  | { readonly kind: 'dead'; readonly attempts: number }
  /** Another worker holds a live claim: retry later (after `lockExpiresAt` when known). */
  | { readonly kind: 'busy'; readonly attempts: number; readonly lockExpiresAt?: number }
  /** FAILED, and its next allowed attempt is at `retryAt`: not before. */
  | { readonly kind: 'waiting'; readonly attempts: number; readonly retryAt: number }
  /** The delivery was claimed with another payload (`payloadHash` differs). */
  | { readonly kind: 'conflict'; readonly attempts: number }
  /**
   * The delivery must be dead-lettered without running: its budget is spent (its worker died during
   * the last allowed run), or a run failed for good and its dead letter could not be sent (`error`).
   * `seen` fences the DEAD write.
   */
  | {
      readonly kind: 'exhausted';
      readonly attempts: number;
      readonly error?: ErrorSummary;
      readonly seen: { readonly status: DeliveryStatus; readonly attempts: number };
    };

export interface ClaimRequest {
  readonly eventName: string;
  readonly correlationId?: string;
  /** Stored when the event was published while handling another one. */
  readonly causationId?: string;
  /** Epoch ms. */
  readonly now: number;
  /** How long the claim holds: the Lambda's remaining time. */
  readonly lockMs: number;
  /** Hash of the message's payload (see `payloadHash`). */
  readonly payloadHash: string;
  /** Runs allowed per budget (`maxReceiveCount`). */
  readonly maxRuns: number;
  /** The message's `DeadLetterId` attribute, when it has one. */
  readonly deadLetterId?: string;
  /** The message's `RerunId` attribute, when it has one. */
  readonly rerunId?: string;
}

/** How a DEAD write is fenced. */
export type DeadFence =
  /** After this worker's claim: only while it still holds `attempt`. */
  | { readonly kind: 'claim'; readonly attempt: number }
  /** Without a claim, from a state read before (an exhausted delivery): only if it has not changed. */
  | { readonly kind: 'seen'; readonly status: DeliveryStatus; readonly attempts: number }
  /**
   * Rejected before any claim (poison): unless the delivery completed, is DEAD already (other than
   * the dead letter `redriveOf` being redriven, or a new operator re-run) or is held by a live claim.
   */
  | { readonly kind: 'unclaimed'; readonly redriveOf?: string; readonly rerunId?: string };

export interface DeadRequest {
  readonly error: ErrorSummary;
  readonly now: number;
  /** The `DeadLetterId` the dead letter was sent with. */
  readonly deadLetterId: string;
  readonly fence: DeadFence;
  readonly eventName: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

/**
 * `dead`: recorded; `completed`: the delivery had already completed (nothing written); `lost`: the
 * record changed meanwhile (another worker holds it, or it is DEAD already).
 */
export type DeadOutcome = 'dead' | 'completed' | 'lost';

/** A FAILED delivery may be claimed this long before its `retryAt` (SQS visibility is whole seconds). */
export const RETRY_AT_TOLERANCE_MS = 1000;

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
  '#deadRpc': 'deadRpc',
  '#eventName': 'eventName',
  '#corr': 'correlationId',
  '#cause': 'causationId',
  '#expires': 'expiresAt',
  '#runs': 'runs',
  '#retryAt': 'retryAt',
  '#hash': 'payloadHash',
  '#dl': 'deadLetterId',
  '#rerun': 'rerunId',
  '#retryable': 'retryable',
} as const;

const ALIASES = Object.entries(NAMES).map(([alias, name]) => ({
  alias,
  name,
  used: new RegExp(`${alias}\\b`),
}));

/** Names maps already built, by expression text: a store writes a handful of expression shapes. */
const namesCache = new Map<string, Readonly<Record<string, string>>>();

/** Only the names an expression uses (DynamoDB rejects unused ones); built once per expression text. */
function namesFor(update: string, condition: string): Readonly<Record<string, string>> {
  const text = `${update}\n${condition}`;
  let names = namesCache.get(text);
  if (!names) {
    names = Object.fromEntries(
      ALIASES.filter(({ used }) => used.test(text)).map(({ alias, name }) => [alias, name]),
    );
    // Shapes are few (their variable parts are values); the bound only guards against a caller that
    // builds expressions from data.
    if (namesCache.size < 256) namesCache.set(text, names);
  }
  return names;
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

/** The SET clauses that store {@link EventFields} and the record's expiry (values as in eventFieldWrites). */
function eventFieldSets(request: EventFields): string[] {
  const set = ['#eventName = :eventName', '#expires = :expires'];
  if (request.correlationId) set.push('#corr = :corr');
  if (request.causationId) set.push('#cause = :cause');
  return set;
}

/** The SET clauses and values that store {@link EventFields} and the record's expiry. */
function eventFieldWrites(
  request: EventFields,
  expires: number,
): { readonly set: string[]; readonly values: Record<string, unknown> } {
  return {
    set: eventFieldSets(request),
    values: {
      ':eventName': request.eventName,
      ':expires': expires,
      ...(request.correlationId ? { ':corr': request.correlationId } : {}),
      ...(request.causationId ? { ':cause': request.causationId } : {}),
    },
  };
}

/** One attribute of a marshalled item, as the types a delivery record uses (S, N, BOOL, M). */
function readValue(value: AttributeValue | undefined): unknown {
  if (!value) return undefined;
  if ('S' in value) return value.S;
  if ('N' in value) return Number(value.N);
  if ('BOOL' in value) return value.BOOL;
  if ('M' in value && value.M)
    return Object.fromEntries(Object.entries(value.M).map(([name, v]) => [name, readValue(v)]));
  return undefined;
}

/** The record DynamoDB returns with a failed condition (marshalled). */
function readRawItem(item: Record<string, AttributeValue>): DeliveryRecord {
  return Object.fromEntries(
    Object.entries(item).map(([name, value]) => [name, readValue(value)]),
  ) as unknown as DeliveryRecord;
}

/**
 * What a claim reads of an existing record when its write failed without returning it (dynalite
 * does not; DynamoDB does): the fields `claimable` and `refusal` judge by, not the stored result.
 */
const CLAIM_STATE_NAMES = {
  '#status': 'status',
  '#attempts': 'attempts',
  '#runs': 'runs',
  '#retryAt': 'retryAt',
  '#lock': 'lockExpiresAt',
  '#expires': 'expiresAt',
  '#hash': 'payloadHash',
  '#rerun': 'rerunId',
  '#lastError': 'lastError',
} as const;
const CLAIM_STATE_PROJECTION = Object.keys(CLAIM_STATE_NAMES).join(', ');

/** Whether a plain claim could take `record` now. */
function claimable(record: DeliveryRecord, request: ClaimRequest): boolean {
  if (record.expiresAt < Math.floor(request.now / 1000)) return true;
  if (record.payloadHash !== undefined && record.payloadHash !== request.payloadHash) return false;
  if ((record.runs ?? 0) >= request.maxRuns) return false;
  if (record.status === STATUS.FAILED)
    return (
      record.lastError?.retryable !== false && (record.retryAt ?? 0) <= request.now + RETRY_AT_TOLERANCE_MS
    );
  return record.status === STATUS.IN_PROGRESS && (record.lockExpiresAt ?? 0) < request.now;
}

/** Why a claim of `record` did not succeed. */
function refusal(record: DeliveryRecord | undefined, request: ClaimRequest): ClaimOutcome {
  if (!record) return { kind: 'busy', attempts: 0 };
  const attempts = record.attempts ?? 0;
  // A new re-run may carry another payload: it only waits for a live claim to end.
  const newRerun = request.rerunId !== undefined && record.rerunId !== request.rerunId;
  if (newRerun) return { kind: 'busy', attempts, lockExpiresAt: record.lockExpiresAt };
  if (record.payloadHash !== undefined && record.payloadHash !== request.payloadHash)
    return { kind: 'conflict', attempts };
  const seen = { status: record.status, attempts };
  switch (record.status) {
    case STATUS.COMPLETED:
      return { kind: 'completed', attempts };
    case STATUS.DEAD:
      return { kind: 'dead', attempts };
    case STATUS.FAILED:
      if (record.lastError?.retryable === false)
        return { kind: 'exhausted', attempts, error: record.lastError, seen };
      if ((record.runs ?? 0) >= request.maxRuns) return { kind: 'exhausted', attempts, seen };
      return { kind: 'waiting', attempts, retryAt: record.retryAt ?? request.now };
    default:
      if ((record.lockExpiresAt ?? 0) < request.now && (record.runs ?? 0) >= request.maxRuns)
        return { kind: 'exhausted', attempts, seen };
      return { kind: 'busy', attempts, lockExpiresAt: record.lockExpiresAt };
  }
}

/** The condition of a write that applies only while this worker's claim (`:attempt`) still holds. */
const OWNED_CONDITION = '#status = :inProgress AND #attempts = :attempt';

const COMPLETE_SET = 'SET #status = :completed, #completedAt = :now, #updated = :now';

/** The condition of a new delivery's claim (a PutItem): no record yet. */
const NEW_CLAIM_CONDITION = 'attribute_not_exists(eventId)';

/** The expressions of a claim other than a new one, by its kind and which event fields it stores. */
interface ClaimShape {
  readonly update: string;
  readonly condition: string;
}

/** Claim expressions already built: their text depends only on the kind and the optional fields. */
const claimShapes = new Map<string, ClaimShape>();

function claimShape(kind: Exclude<ClaimKind, 'new'>, request: EventFields): ClaimShape {
  const id = `${kind}:${request.correlationId ? 1 : 0}${request.causationId ? 1 : 0}`;
  const known = claimShapes.get(id);
  if (known) return known;
  const fresh = kind === 'redrive' || kind === 'rerun';
  const set = [
    '#status = :inProgress',
    '#attempts = if_not_exists(#attempts, :zero) + :one',
    fresh ? '#runs = :one' : '#runs = if_not_exists(#runs, :zero) + :one',
    '#lock = :lock',
    '#first = if_not_exists(#first, :now)',
    '#updated = :now',
    '#hash = :hash',
    ...(kind === 'rerun' ? ['#rerun = :rerun'] : []),
    ...eventFieldSets(request),
  ];
  const remove = ['#completedAt', '#result', '#deadAt', '#deadRpc', '#retryAt', ...(fresh ? ['#dl'] : [])];
  const liveClaim = '(#status = :inProgress AND #lock >= :now)';
  const budgetLeft = '(attribute_not_exists(#runs) OR #runs < :maxRuns)';
  const samePayload = '(attribute_not_exists(#hash) OR #hash = :hash)';
  const conditions: Record<Exclude<ClaimKind, 'new'>, string> = {
    next:
      `attribute_not_exists(#pk) OR #expires < :nowSeconds OR (${samePayload} AND ${budgetLeft} AND (` +
      '(#status = :failed AND #lastError.#retryable = :yes AND (attribute_not_exists(#retryAt) OR #retryAt <= :due)) ' +
      'OR (#status = :inProgress AND #lock < :now)))',
    redrive: `#status = :dead AND #dl = :dl AND ${samePayload}`,
    rerun: `attribute_not_exists(#pk) OR ((attribute_not_exists(#rerun) OR #rerun <> :rerun) AND NOT ${liveClaim})`,
  };
  const shape = { update: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`, condition: conditions[kind] };
  claimShapes.set(id, shape);
  return shape;
}

/** Sends DynamoDB's own commands (a DynamoDBClient, or a document client, which passes them on). */
type RawSender = Pick<DynamoDBClient, 'send'>;

/** Reads and writes delivery records. */
export class DeliveryStore {
  /** Where the per-record requests (claim, its read, completion) go. */
  private readonly requests: RawSender;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    /** Seconds a record is kept (sets `expiresAt`). */
    private readonly retentionSeconds: number,
    /** A client with `cacheMiddleware` for the per-record requests; `client` when not given. */
    requests?: DynamoDBClient,
  ) {
    this.requests = requests ?? (client as unknown as RawSender);
  }

  /**
   * Claims a delivery with one conditional write (two when the message carries a `DeadLetterId` or
   * `RerunId` that no longer applies). A plain message claims a new delivery, a FAILED one whose
   * backoff is over (`retryAt`) and whose budget is not spent (`runs < maxRuns`), one whose
   * IN_PROGRESS claim has expired (its worker died) with budget left, and one whose record has
   * outlived its retention; always with the same payload (`payloadHash`). A redrive (`deadLetterId`
   * equal to the DEAD record's) and a re-run (a `rerunId` other than the stored one; any state but a
   * live claim; any payload) claim with a fresh budget. Otherwise it reports why not, from the item
   * DynamoDB returns with the failure, or from one consistent read where the API does not return it.
   */
  async claim(key: DeliveryKey, request: ClaimRequest): Promise<ClaimOutcome> {
    let seen: DeliveryRecord | undefined;
    let read = false;
    const attempt = async (kind: ClaimKind): Promise<ClaimOutcome | undefined> => {
      const result = await this.tryClaim(key, request, kind);
      if ('claimed' in result) return result.claimed;
      seen = result.existing;
      read = result.read;
      return undefined;
    };
    const specials: ClaimKind[] = [
      ...(request.rerunId ? (['rerun'] as const) : []),
      ...(request.deadLetterId ? (['redrive'] as const) : []),
    ];
    for (const kind of specials) {
      const claimed = await attempt(kind);
      if (claimed) return claimed;
    }
    if (specials.length === 0) {
      // The common case, a new delivery, with the shortest condition (expressions cost parse time,
      // notably on dynalite); what an existing record allows is decided from the item it returns.
      const claimed = await attempt('new');
      if (claimed) return claimed;
      if (!seen && !read) seen = await this.claimState(key);
      read = true;
    }
    // An existing record (or a redrive or re-run id that did not apply): a plain claim, unless what
    // was found rules it out.
    if (!seen || claimable(seen, request)) {
      const next = await attempt('next');
      if (next) return next;
    }
    if (!seen && !read) seen = await this.claimState(key);
    return refusal(seen, request);
  }

  /**
   * The fields of a record a claim decides by, read consistently; sent as DynamoDB's own GetItem
   * (the duplicate's path on dynalite: the document client's unmarshalling is not needed for them).
   */
  private async claimState(key: DeliveryKey): Promise<DeliveryRecord | undefined> {
    const output = await this.requests.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { eventId: { S: key.eventId }, rpc: { S: key.rpc } },
        ConsistentRead: true,
        ProjectionExpression: CLAIM_STATE_PROJECTION,
        ExpressionAttributeNames: CLAIM_STATE_NAMES,
      }),
    );
    return output.Item ? readRawItem(output.Item) : undefined;
  }

  private async tryClaim(
    key: DeliveryKey,
    request: ClaimRequest,
    kind: ClaimKind,
  ): Promise<{ claimed: ClaimOutcome } | { existing?: DeliveryRecord; read: boolean }> {
    const lockExpiresAt = request.now + request.lockMs;
    try {
      if (kind === 'new') {
        // No record yet: the whole item in one conditional PutItem, whose only expression is its
        // condition (an UpdateItem's SET clauses would all be plain assignments on a new item).
        // Sent as DynamoDB's own PutItem with the item written out (strings and numbers only): the
        // document client's marshalling of it cost as much as the rest of the claim on the client.
        const item: Record<string, AttributeValue> = {
          eventId: { S: key.eventId },
          rpc: { S: key.rpc },
          status: { S: STATUS.IN_PROGRESS },
          attempts: { N: '1' },
          runs: { N: '1' },
          lockExpiresAt: { N: String(lockExpiresAt) },
          firstAttemptAt: { N: String(request.now) },
          updatedAt: { N: String(request.now) },
          payloadHash: { S: request.payloadHash },
          eventName: { S: request.eventName },
          expiresAt: { N: String(this.expiresAt(request.now)) },
        };
        if (request.correlationId) item.correlationId = { S: request.correlationId };
        if (request.causationId) item.causationId = { S: request.causationId };
        await this.requests.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: NEW_CLAIM_CONDITION,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { claimed: { kind: 'claimed', via: kind, attempt: 1, run: 1, lockExpiresAt } };
      }
      const shape = claimShape(kind, request);
      const values: Record<string, unknown> = {
        ':inProgress': STATUS.IN_PROGRESS,
        ':zero': 0,
        ':one': 1,
        ':lock': lockExpiresAt,
        ':now': request.now,
        ':hash': request.payloadHash,
        ':eventName': request.eventName,
        ':expires': this.expiresAt(request.now),
      };
      if (request.correlationId) values[':corr'] = request.correlationId;
      if (request.causationId) values[':cause'] = request.causationId;
      if (kind === 'next') {
        values[':failed'] = STATUS.FAILED;
        values[':yes'] = true;
        values[':due'] = request.now + RETRY_AT_TOLERANCE_MS;
        values[':maxRuns'] = request.maxRuns;
        values[':nowSeconds'] = Math.floor(request.now / 1000);
      }
      if (kind === 'redrive') {
        values[':dead'] = STATUS.DEAD;
        values[':dl'] = request.deadLetterId;
      }
      if (kind === 'rerun') values[':rerun'] = request.rerunId;
      const output = await this.update(key, shape.update, shape.condition, values, {
        ReturnValues: 'UPDATED_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return {
        claimed: {
          kind: 'claimed',
          via: kind,
          attempt: Number(output.Attributes?.attempts ?? 1),
          run: Number(output.Attributes?.runs ?? 1),
          lockExpiresAt,
        },
      };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return error.Item ? { existing: readRawItem(error.Item), read: true } : { read: false };
    }
  }

  /**
   * Records COMPLETED with the (bounded) result, and clears `lastError` (a redriven delivery that
   * now succeeded is not shown failing; `attempts` keeps its history). False when this worker no
   * longer held the claim.
   */
  async complete(
    key: DeliveryKey,
    attempt: number,
    result: string | undefined,
    now: number,
    /**
     * The claim was a new delivery's PutItem: its item holds no `lastError` or `retryAt` (nothing
     * else writes an IN_PROGRESS item at this attempt), so only the lock is removed.
     */
    fromNew = false,
  ): Promise<boolean> {
    // Every first delivery ends here: sent as DynamoDB's own UpdateItem with its values written out
    // (strings and numbers), without the document client's marshalling; fenced as ownedWrite is.
    const update = `${result === undefined ? COMPLETE_SET : `${COMPLETE_SET}, #result = :result`} REMOVE #lock${fromNew ? '' : ', #lastError, #retryAt'}`;
    const values: Record<string, AttributeValue> = {
      ':completed': { S: STATUS.COMPLETED },
      ':now': { N: String(now) },
      ':inProgress': { S: STATUS.IN_PROGRESS },
      ':attempt': { N: String(attempt) },
    };
    if (result !== undefined) values[':result'] = { S: result };
    try {
      await this.requests.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { eventId: { S: key.eventId }, rpc: { S: key.rpc } },
          UpdateExpression: update,
          ConditionExpression: OWNED_CONDITION,
          ExpressionAttributeNames: namesFor(update, OWNED_CONDITION),
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Records a failure of this worker's attempt: retryable (`retryAt` is the next allowed attempt),
   * or one whose dead letter could not be sent (`error.retryable` false: the next copy of the
   * message dead-letters it without running). False when this worker no longer held the claim.
   */
  async fail(
    key: DeliveryKey,
    attempt: number,
    error: ErrorSummary,
    now: number,
    retryAt: number,
  ): Promise<boolean> {
    return this.ownedWrite(
      key,
      attempt,
      'SET #status = :failed, #updated = :now, #lastError = :error, #retryAt = :retryAt REMOVE #lock',
      { ':failed': STATUS.FAILED, ':now': now, ':error': error, ':retryAt': retryAt },
    );
  }

  /**
   * Records DEAD after the dead letter `deadLetterId` was sent (see {@link DeadFence} for when it
   * applies). The record keeps the id, so a redrive of that letter is told from a stale copy.
   */
  async markDead(key: DeliveryKey, request: DeadRequest): Promise<DeadOutcome> {
    const values: Record<string, unknown> = {
      ':dead': STATUS.DEAD,
      ':now': request.now,
      ':error': request.error,
      ':dl': request.deadLetterId,
      ':rpc': key.rpc,
    };
    // `deadRpc` puts the record in the sparse index of dead deliveries (DEAD_INDEX) until its next claim.
    const set = [
      '#status = :dead',
      '#deadAt = :now',
      '#deadRpc = :rpc',
      '#updated = :now',
      '#lastError = :error',
      '#dl = :dl',
    ];
    const { fence } = request;
    if (fence.kind === 'claim') {
      const owned = await this.ownedWrite(
        key,
        fence.attempt,
        `SET ${set.join(', ')} REMOVE #lock, #retryAt`,
        values,
      );
      return owned ? 'dead' : 'lost';
    }
    let condition: string;
    if (fence.kind === 'seen') {
      condition = '#status = :seenStatus AND #attempts = :seenAttempts';
      Object.assign(values, { ':seenStatus': fence.status, ':seenAttempts': fence.attempts });
    } else {
      const event = eventFieldWrites(request, this.expiresAt(request.now));
      set.push('#attempts = if_not_exists(#attempts, :zero)', ...event.set);
      Object.assign(values, event.values, {
        ':zero': 0,
        ':completed': STATUS.COMPLETED,
        ':inProgress': STATUS.IN_PROGRESS,
      });
      const allowed = [
        'attribute_not_exists(#pk)',
        'NOT (#status IN (:completed, :dead) OR (#status = :inProgress AND #lock >= :now))',
      ];
      if (fence.redriveOf) {
        allowed.push('(#status = :dead AND #dl = :redriveOf)');
        values[':redriveOf'] = fence.redriveOf;
      }
      if (fence.rerunId) {
        allowed.push('((attribute_not_exists(#rerun) OR #rerun <> :rerun) AND #status <> :inProgress)');
        set.push('#rerun = :rerun');
        values[':rerun'] = fence.rerunId;
      }
      condition = allowed.join(' OR ');
    }
    try {
      await this.update(key, `SET ${set.join(', ')} REMOVE #lock, #retryAt`, condition, values, {
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return 'dead';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = error.Item ? readRawItem(error.Item) : await this.get(key);
      return existing?.status === STATUS.COMPLETED ? 'completed' : 'lost';
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
    const condition = OWNED_CONDITION;
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
