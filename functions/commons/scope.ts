/**
 * What every step of the worker pipeline is given (built once per execution environment), and what
 * a step that ends a record returns: a {@link Settled} that the worker logs as the record's one
 * outcome line.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import type { RecordOutcome, RecordReport } from '../../common/outcome.ts';
import type { EventBusPort, QueuePort } from '../../common/ports.ts';
import type { WorkerConfig } from './config.ts';
import type { DeliveryContext } from './context.ts';
import type { DeliveryStore } from './deliveries.ts';
import type { ResolvedWorkerOptions } from './options.ts';
import type { PayloadValidator } from './schema.ts';

/** What runs a delivery: a handler module's function, or a call to a remote endpoint. */
export interface RpcRunner {
  /** Whether this RPC handles events named `eventName` (others are poison: `UnknownEvent`). */
  handles(eventName: string, config: WorkerConfig): boolean;
  /** Runs the RPC; the resolved value is recorded as the result. Throw `NonRetryableError` to dead-letter. */
  run(payload: unknown, ctx: DeliveryContext, config: WorkerConfig): Promise<unknown>;
}

/** What the worker talks to. The defaults are the module-scope clients; tests pass their own. */
export interface WorkerDependencies {
  readonly dynamo: DynamoDBDocumentClient;
  /**
   * The client the delivery store's per-record requests go through (the claim, its read, the
   * completion): one created with `cacheMiddleware`, so the SDK resolves each command's middleware
   * once rather than on every request, which the document client cannot do. Tests that replace
   * `dynamo` alone get `dynamo` for these too. @default dynamo
   */
  readonly deliveryRequests?: DynamoDBClient;
  readonly queue: QueuePort;
  readonly eventBus: EventBusPort;
  readonly logger: Logger;
  /** Epoch ms. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Overrides of the environment configuration (tests). */
  readonly config?: Partial<WorkerConfig>;
  /** Schema version of a published event. @default () => 1 */
  readonly schemaVersionOf?: (eventName: string) => number;
}

/** Everything a step needs, built once per execution environment. */
export interface WorkerScope {
  readonly runner: RpcRunner;
  readonly config: WorkerConfig;
  readonly options: ResolvedWorkerOptions;
  readonly store: DeliveryStore;
  readonly validator: PayloadValidator;
  readonly deps: WorkerDependencies;
}

/** One SQS record as the steps see it. */
export interface Received {
  readonly record: SQSRecord;
  /** `ApproximateReceiveCount` of this message (1 on its first receive). */
  readonly receiveCount: number;
  /** The `DeadLetterId` message attribute: set on a redriven dead letter. */
  readonly deadLetterId?: string;
  /** The `RerunId` message attribute: set by an operator to run the delivery again. */
  readonly rerunId?: string;
}

/** How a record ended, with the words of its outcome line. */
export interface Settled {
  readonly report: RecordReport;
  readonly message: string;
  readonly level: 'info' | 'warn' | 'error';
  /** More keys for the outcome line (never the payload). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Builds a {@link Settled}. */
export function settle(
  outcome: RecordOutcome,
  message: string,
  more: Omit<RecordReport, 'outcome'> & {
    readonly level?: Settled['level'];
    readonly details?: Settled['details'];
  } = {},
): Settled {
  const { level, details, ...report } = more;
  return {
    report: { outcome, ...report },
    message,
    level: level ?? (outcome === 'dead-lettered' ? 'error' : outcome === 'failed' ? 'warn' : 'info'),
    ...(details ? { details } : {}),
  };
}
