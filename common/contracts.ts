/**
 * The shapes that cross a boundary at run time: the envelope on the bus, the message on an RPC queue,
 * the delivery record in DynamoDB and the environment a worker is given.
 *
 * Pure types and constants: imported by functions, by the CDK constructs (environment variable names)
 * and by the local runtime, so each side agrees without copying.
 */

/** `detail.metadata` of every event on the bus. */
export interface EventMetadata {
  /** Chosen by the publisher (or derived from an idempotency key by the publish API). */
  readonly eventId: string;
  /** ISO-8601 instant the fact happened. */
  readonly occurredAt: string;
  readonly correlationId: string;
  /** eventId of the event whose handling published this one. */
  readonly causationId?: string;
  /** Service (or client) that published it. */
  readonly publisher: string;
  readonly schemaVersion: number;
}

/** The EventBridge `detail`. */
export interface Envelope<P = unknown> {
  readonly metadata: EventMetadata;
  readonly payload: P;
}

/** An EventBridge event as delivered to targets (`<aws.events.event.json>`). */
export interface BusEvent<P = unknown> {
  readonly version: string;
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Envelope<P>;
}

/**
 * Body of a message on an RPC queue, as the rule's input transformer renders it:
 * `{"rpc": "<Service/Method>", "event": <aws.events.event.json>}`.
 *
 * A message that EventBridge itself could not deliver lands in the RPC's DLQ as the bare event
 * (no `rpc` wrapper); after a redrive the worker treats such a body as addressed to its own RPC.
 */
export interface QueueMessage<P = unknown> {
  readonly rpc: string;
  readonly event: BusEvent<P>;
}

/** Key under which a schema compiled into a bundle carries its event's `schemaVersion`. */
export const SCHEMA_VERSION_KEY = 'x-schema-version';

/** Builds the InputTemplate of a rule target delivering to `rpcId`. */
export function inputTemplateFor(rpcId: string): string {
  return `{"rpc":${JSON.stringify(rpcId)},"event":<aws.events.event.json>}`;
}

export type DeliveryStatus = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'DEAD';

/** What the delivery record and the DLQ attributes keep of an error. */
export interface ErrorSummary {
  readonly name: string;
  readonly message: string;
  readonly retryable: boolean;
  /**
   * The bounded stack of an error the RPC threw (see stack.ts): frames only, paths relative to the
   * project, source-mapped to its TypeScript. Absent for reasons the worker itself gives.
   */
  readonly stack?: string;
}

/**
 * One item per delivery in the deliveries table: PK `eventId`, SK `rpc`.
 * A Query on `eventId` shows every RPC's state for that event.
 */
export interface DeliveryRecord {
  readonly eventId: string;
  readonly rpc: string;
  readonly status: DeliveryStatus;
  readonly eventName: string;
  readonly correlationId?: string;
  /** eventId of the event whose handling published this one, when the event has one. */
  readonly causationId?: string;
  /** Handler runs started so far (claims taken). */
  readonly attempts: number;
  /** Epoch ms until which an IN_PROGRESS claim holds; after it another worker may take over. */
  readonly lockExpiresAt?: number;
  /** Epoch ms of the first claim. */
  readonly firstAttemptAt?: number;
  /** Epoch ms of the last change. */
  readonly updatedAt: number;
  /** Epoch ms, set with COMPLETED. */
  readonly completedAt?: number;
  /** JSON of the handler's result, truncated to a bounded size. */
  readonly result?: string;
  readonly lastError?: ErrorSummary;
  /** Epoch ms the delivery was sent to the DLQ (status DEAD). */
  readonly deadAt?: number;
  /**
   * Handler runs in the current budget: since the first claim, or since the last redrive or re-run.
   * Bounded by `maxReceiveCount`; `attempts` keeps counting across budgets.
   */
  readonly runs?: number;
  /** Epoch ms of a FAILED delivery's next allowed attempt (its backoff ends). */
  readonly retryAt?: number;
  /** Hash of the payload the delivery was claimed with (a different payload is a conflict). */
  readonly payloadHash?: string;
  /** Id of the dead letter a DEAD delivery was sent away with (`DeadLetterId` attribute). */
  readonly deadLetterId?: string;
  /** The last operator re-run (`RerunId` attribute) that ran this delivery. */
  readonly rerunId?: string;
  /** Epoch seconds; the table's TTL attribute. Expiry is judged from the other timestamps, never from this. */
  readonly expiresAt: number;
}

/** Table key attribute names and the TTL attribute. */
export const DELIVERIES_TABLE = {
  partitionKey: 'eventId',
  sortKey: 'rpc',
  ttlAttribute: 'expiresAt',
} as const;

/**
 * The sparse index of dead deliveries: `deadRpc` (the RPC id) is set only while a record is DEAD (the
 * DEAD write sets it, the next claim removes it), so the index holds exactly the dead deliveries, by RPC
 * and time of death; `event-router failures` groups them with a Query instead of reading the DLQs.
 */
export const DEAD_INDEX = {
  name: 'dead',
  partitionKey: 'deadRpc',
  sortKey: 'deadAt',
  /** What a failure group needs besides the keys. */
  projected: ['lastError', 'eventName', 'attempts', 'deadLetterId'],
} as const;

/** Environment variables the constructs give the functions (and the local runtime resolves). */
export const ENV = {
  app: 'ER_APP',
  stage: 'ER_STAGE',
  /** `Service/Method` this worker runs. */
  rpc: 'ER_RPC',
  deliveriesTable: 'ER_DELIVERIES_TABLE',
  /** URL of this RPC's DLQ (poison messages are sent there directly). */
  dlqUrl: 'ER_DLQ_URL',
  /** Name of the bus, for follow-up events and the publish API. */
  eventBus: 'ER_EVENT_BUS',
  maxReceiveCount: 'ER_MAX_RECEIVE_COUNT',
  /** Seconds a delivery record is kept. */
  recordRetentionSeconds: 'ER_RECORD_RETENTION_SECONDS',
  /** Remote RPCs: full Connect URL `POST <baseUrl>/<package>.<Service>/<Method>`. */
  remoteUrl: 'ER_REMOTE_URL',
  /** Remote RPCs: per-call timeout in ms (kept below the function timeout). */
  remoteTimeoutMs: 'ER_REMOTE_TIMEOUT_MS',
  /**
   * Local runtime only (`event-router dev --retry-delay`): seconds between retries of a failed
   * delivery, replacing the RPC's backoff.
   */
  retryDelaySeconds: 'ER_RETRY_DELAY_SECONDS',
  /**
   * Local runtime only: the project directory, which the paths of a failed attempt's stack are made
   * relative to.
   */
  projectRoot: 'ER_PROJECT_ROOT',
  /** Publish function: JSON `{ [eventName]: rpcId[] }` of subscriptions, for the status endpoint. */
  subscriptions: 'ER_SUBSCRIPTIONS',
} as const;

/** Environment variables of the publish API's JWT authorizer (set by the PublishApi construct). */
export const JWT_ENV = {
  issuer: 'ER_JWT_ISSUER',
  audience: 'ER_JWT_AUDIENCE',
  /** Comma-separated claims passed on to the publish function as authorizer context. */
  claims: 'ER_JWT_CLAIMS',
} as const;

/** Message attributes set on a message the worker sends to a DLQ. */
export const DLQ_ATTRIBUTES = {
  errorType: 'ErrorType',
  errorMessage: 'ErrorMessage',
  rpc: 'Rpc',
  eventId: 'EventId',
  attempts: 'Attempts',
  failedAt: 'FailedAt',
  /**
   * A fresh UUID per dead letter, also stored on the DEAD record. StartMessageMoveTask keeps message
   * attributes, so a redriven message carries it: a message whose `DeadLetterId` equals the DEAD
   * record's is a redrive of that dead letter and may run the delivery again (fresh attempt budget).
   */
  deadLetterId: 'DeadLetterId',
  /**
   * The bounded stack of the error the RPC threw (stack.ts), when it threw one: frames in the user's
   * TypeScript, paths relative to the project.
   */
  errorStack: 'ErrorStack',
} as const;

/**
 * Message attributes an operator sets to run a delivery again on purpose.
 * `RerunId` (String, unique per re-run): when it differs from the record's stored `rerunId`, the
 * worker runs the delivery again whatever its state (DEAD, FAILED or COMPLETED), with a fresh attempt
 * budget, stores the new id, and accepts a payload other than the one first claimed (edit and retry).
 */
export const RERUN_ATTRIBUTES = {
  rerunId: 'RerunId',
} as const;

/**
 * Compile-time constants the constructs inject into a function bundle with esbuild `define`
 * (too large for the 4 KB Lambda environment). Code reads them through `typeof X !== 'undefined'`
 * and falls back to the environment variable of the same name, which tests may set.
 */
export const BUNDLE_DEFINES = {
  /** JSON string `{ [eventName]: JSONSchema }` of the events this function must validate. */
  eventSchemas: 'ER_EVENT_SCHEMAS',
  /**
   * JSON string `{ [eventName]: JSONSchema }` of the events a worker may publish as follow-ups, each with
   * its schema version under SCHEMA_VERSION_KEY: a follow-up is validated before it is sent.
   */
  publishedSchemas: 'ER_PUBLISHED_SCHEMAS',
} as const;

/**
 * Publish function's define (and test environment variable): JSON `{ [eventName]: rpcId[] }` of the
 * subscriptions that have a content filter (the status marks those RPCs' PENDING as possibly final).
 */
export const FILTERED_SUBSCRIPTIONS_DEFINE = 'ER_FILTERED_SUBSCRIPTIONS';

/** How one record ended (the worker's outcome log line): see outcome.ts. */
export type { RecordOutcome, RecordReport } from './outcome.ts';
