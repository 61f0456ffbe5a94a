/**
 * The router spec: what `event-router.yaml` means once it has been loaded and validated.
 *
 * Every other part of the project (planner, constructs, local runtime, codegen) reads this model,
 * never the YAML itself. All defaults are already applied; durations are in seconds.
 */

/** A JSON Schema object as written in the YAML (draft 2020-12 or draft-07 keywords). */
export type JsonSchema = Record<string, unknown>;

/** Where a value came from in the YAML, for messages that point at it. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
}

export type PublishApiAuth =
  | { readonly type: 'iam' }
  | { readonly type: 'apiKey' }
  | {
      readonly type: 'jwt';
      /** Issuer URL of the identity provider (the `iss` claim). */
      readonly issuer: string;
      /** Accepted `aud` claims. */
      readonly audience: readonly string[];
    };

export interface PublishApiSettings {
  /** @default { type: 'iam' } */
  readonly auth: PublishApiAuth;
  /** Steady-state requests per second. @default 100 */
  readonly rateLimit: number;
  /** Burst of requests above the rate. @default 200 */
  readonly burstLimit: number;
}

export interface AppSettings {
  /** Lower-case kebab-case application name; first part of every physical name. */
  readonly name: string;
  /** Lower-case kebab-case stage, e.g. `dev`, `prod`. @default 'dev' */
  readonly stage: string;
  /** Days the bus archive keeps events (0 = forever). @default 30 */
  readonly archiveRetentionDays: number;
  /**
   * Seconds a delivery record is kept in the deliveries table. Must outlive queue + DLQ retention so a
   * redrive days later does not re-run completed work.
   * @default - the longest queue retention + DLQ retention of any RPC, plus one day
   */
  readonly dedupRetentionSeconds: number;
  readonly publishApi: PublishApiSettings;
  /**
   * AWS quotas the account has raised above their defaults (`app.quotas`), so validation holds the
   * router to them instead. @default - the default quotas (300 rules per event bus)
   */
  readonly quotas?: AppQuotas;
  /**
   * Where the router's alarms notify and whether they also send OK (`app.alarms`).
   * @default - the router's own alarm topic, no OK notifications
   */
  readonly alarms?: AlarmSettings;
}

/** `app.alarms`: the topic every alarm of the router notifies. */
export interface AlarmSettings {
  /**
   * ARN of an existing SNS topic (same region as the router) to notify instead of the router's own.
   * @default - the router's alarm topic `<app>-<stage>-alarms`
   */
  readonly topicArn?: string;
  /** Notify the topic when an alarm returns to OK as well. @default false */
  readonly okActions: boolean;
}

/** Raised AWS quotas declared in `app.quotas`. */
export interface AppQuotas {
  /** Service Quotas "Rules per event bus" (EventBridge), as raised for this account and region. */
  readonly rulesPerBus?: number;
}

/** Per-RPC knobs. Every field has a default (see DEFAULT_RPC_SETTINGS). */
export interface RpcSettings {
  /** Function timeout in seconds, 1..900. @default 30 */
  readonly timeoutSeconds: number;
  /** Function memory in MB, 128..10240. @default 256 */
  readonly memoryMb: number;
  /** SQS batch size, 1..10000. @default 10 */
  readonly batchSize: number;
  /** Maximum batching window in seconds, 0..300. @default 0 */
  readonly batchingWindowSeconds: number;
  /** Event source mapping maximum concurrency, 2..1000. @default 5 */
  readonly maxConcurrency: number;
  /** Receives before SQS moves a message to the DLQ, 1..1000. @default 5 */
  readonly maxReceiveCount: number;
  /** Queue retention in seconds, 60..1209600. @default 345600 (4 days) */
  readonly queueRetentionSeconds: number;
  /** DLQ retention in seconds, 60..1209600. @default 1209600 (14 days) */
  readonly dlqRetentionSeconds: number;
  /**
   * Backlog alarm: seconds the oldest message of the queue may wait, 60..1209600 (`alarmBacklogAge`).
   * @default - planned from the queue's visibility timeout (see lib/plan/alarms.ts)
   */
  readonly alarmBacklogAgeSeconds?: number;
  /** Error-rate alarm: percent of worker invocations that fail, 1..100 (`alarmErrorRate`). @default 10 */
  readonly alarmErrorRatePercent: number;
  /**
   * Invocations a five-minute window needs before its error rate counts, 1..1000000
   * (`alarmMinInvocations`), so a single failure at a quiet hour is not a page. @default 10
   */
  readonly alarmMinInvocations: number;
}

export const DEFAULT_RPC_SETTINGS: RpcSettings = {
  timeoutSeconds: 30,
  memoryMb: 256,
  batchSize: 10,
  batchingWindowSeconds: 0,
  maxConcurrency: 5,
  maxReceiveCount: 5,
  queueRetentionSeconds: 4 * 24 * 3600,
  dlqRetentionSeconds: 14 * 24 * 3600,
  alarmErrorRatePercent: 10,
  alarmMinInvocations: 10,
};

/** How an RPC is run. */
export type RpcTarget =
  | {
      readonly kind: 'handler';
      /** Path of the handler module relative to the project root, e.g. `functions/rpcs/notification-service/notify-cardholder.ts`. */
      readonly handler: string;
    }
  | {
      readonly kind: 'remote';
      /** Base URL of the service, e.g. `https://ledger.internal.example.com`. */
      readonly baseUrl: string;
      /** Connect/protobuf package, e.g. `acme.ledger.v1`; the call goes to `POST <baseUrl>/<package>.<Service>/<Method>`. */
      readonly package: string;
    };

export interface RpcSpec {
  /** `Service/Method`, e.g. `NotificationService/NotifyCardholder`. */
  readonly id: string;
  readonly service: string;
  readonly method: string;
  readonly description?: string;
  readonly target: RpcTarget;
  readonly settings: RpcSettings;
  /** Event names this RPC may publish as follow-ups (its worker gets PutEvents for exactly these). */
  readonly publishes: readonly string[];
  /**
   * True when a follow-up of this RPC may lead back, through other subscriptions, to an event that runs
   * it again, and that loop is intended (the loader reports such a cycle otherwise). @default false
   */
  readonly intendedLoop: boolean;
  readonly location: SourceLocation;
}

/** How an external publisher proves who it is to the publish API. */
export type PublisherIdentity =
  /** The IAM principal that signs its requests (SigV4), an ARN pattern where `*` matches any text. */
  | { readonly kind: 'iam'; readonly principal: string }
  /** A claim of its JWT: `claim` equals `value` (for `scope`/`scp`: one of its space-separated values is `value`). */
  | { readonly kind: 'jwt'; readonly claim: string; readonly value: string }
  /** A named API key of the publish API's usage plan. */
  | { readonly kind: 'apiKey'; readonly name: string };

/** A publisher that is not an RPC of this router (a client, another system), declared under `publishers:`. */
export interface ExternalPublisherSpec {
  /** PascalCase, e.g. `CardNetwork`. */
  readonly name: string;
  readonly description?: string;
  /** How the publish API recognizes it. Undefined: it does not use the publish API (then `putsOnBus`). */
  readonly identity?: PublisherIdentity;
  /** It puts its events on the bus itself: it gets a managed policy with exactly its source and events. */
  readonly putsOnBus: boolean;
  /** Events it may publish (those whose `publisher` names it), in declaration order. */
  readonly events: readonly string[];
  readonly location: SourceLocation;
}

export interface ServiceSpec {
  /** PascalCase service name, e.g. `NotificationService`. */
  readonly name: string;
  readonly rpcs: readonly RpcSpec[];
  readonly location: SourceLocation;
}

export interface SubscriptionSpec {
  /** The event name (EventBridge detail-type). */
  readonly event: string;
  /** The RPC id `Service/Method`. */
  readonly rpc: string;
  /**
   * Content filter in EventBridge pattern syntax, matched against the envelope (the EventBridge
   * `detail`: `{ metadata, payload }`). Undefined = every event of that name.
   */
  readonly filter?: Record<string, unknown>;
  readonly location: SourceLocation;
}

export interface EventSpec {
  /** e.g. `card.transaction.authorized`; the EventBridge detail-type. */
  readonly name: string;
  readonly description?: string;
  /**
   * Who may publish it, as written (`publisher:`), comma-separated when several: each is an external
   * publisher declared under `publishers:` or an RPC (`Service/Method`) that lists it under `publishes:`.
   */
  readonly publisher: string;
  /** The same names, one per entry. Enforced: every rule matches only their sources. */
  readonly publishers: readonly string[];
  /** JSON Schema of the payload (`detail.payload`). */
  readonly schema: JsonSchema;
  /** Schema version stamped into `metadata.schemaVersion`. @default 1 */
  readonly schemaVersion: number;
  readonly location: SourceLocation;
}

export interface RouterSpec {
  /** Absolute path of the YAML file it was loaded from. */
  readonly file: string;
  /** Directory handler paths are relative to (the directory of the YAML file). */
  readonly rootDir: string;
  readonly app: AppSettings;
  readonly events: readonly EventSpec[];
  readonly services: readonly ServiceSpec[];
  readonly subscriptions: readonly SubscriptionSpec[];
  /** The external publishers (`publishers:`), in declaration order. */
  readonly publishers: readonly ExternalPublisherSpec[];
}

/** One problem found while loading a spec. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly location: SourceLocation;
  /** What is wrong, in one sentence. */
  readonly message: string;
  /** How to fix it. */
  readonly hint?: string;
  /** Stable machine-readable code, e.g. `unknown-key`, `duplicate-event`. */
  readonly code: string;
}

export interface LoadResult {
  /** Present when there are no errors (warnings allowed). */
  readonly spec?: RouterSpec;
  readonly diagnostics: readonly Diagnostic[];
}
