/**
 * The worker pipeline for one SQS batch: for every record, parse -> claim the delivery -> run the
 * RPC -> record the outcome; poison straight to the DLQ; retryable failures back to the queue with
 * backoff. Records of a batch run concurrently up to a bound. Returns the partial batch response.
 *
 * What the RPC is (a local handler or a remote call) is the {@link RpcRunner}; everything else is here.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { backoffSeconds, delayRetry, sourceQueueUrl } from './backoff.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { loadWorkerConfig, type WorkerConfig } from './config.ts';
import type { DeliveryContext } from './context.ts';
import type { RecordLogOutcome } from './contracts.ts';
import { sendToDeadLetterQueue } from './dead-letters.ts';
import { type DeliveryKey, DeliveryStore } from './deliveries.ts';
import { type ErrorSummary, PoisonMessageError, summarizeError } from './errors.ts';
import { deliveryLogger } from './logger.ts';
import { type Delivery, parseMessage, peekEventId } from './message.ts';
import { resolveWorkerOptions, type WorkerOptions } from './options.ts';
import type { EventBusPort, QueuePort } from './ports.ts';
import { createPublisher } from './publish.ts';
import { boundedResult } from './result.ts';
import { PayloadValidator } from './schema.ts';

export type { WorkerOptions } from './options.ts';

/** What runs a delivery: a handler module's function, or a call to a remote endpoint. */
export interface RpcRunner {
  /** Whether this RPC handles events named `eventName` (others are poison: `UnknownEvent`). */
  handles(eventName: string, config: WorkerConfig): boolean;
  /** Runs the RPC; the resolved value is recorded as the result. Throw {@link NonRetryableError} to dead-letter. */
  run(payload: unknown, ctx: DeliveryContext, config: WorkerConfig): Promise<unknown>;
}

/** What the worker talks to. The defaults are the module-scope clients; tests pass their own. */
export interface WorkerDependencies {
  readonly dynamo: DynamoDBDocumentClient;
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

/** How one record ended. */
export type RecordOutcome =
  | 'completed'
  | 'duplicate'
  | 'dead-lettered'
  /** Another worker holds a live claim: back to the queue. */
  | 'busy'
  /** Retryable failure: back to the queue with backoff. */
  | 'retry'
  /** The worker itself could not finish (DynamoDB, SQS unavailable): back to the queue. */
  | 'error';

const RETURNS_TO_QUEUE: ReadonlySet<RecordOutcome> = new Set(['busy', 'retry', 'error']);

const LOGGED_OUTCOME: { readonly [O in RecordOutcome]: RecordLogOutcome } = {
  completed: 'completed',
  duplicate: 'duplicate',
  'dead-lettered': 'dead-lettered',
  busy: 'in-progress-elsewhere',
  retry: 'failed',
  error: 'failed',
};

/** The `outcome` key of the one line that says how a record ended. */
function ended(outcome: RecordOutcome): { outcome: RecordLogOutcome } {
  return { outcome: LOGGED_OUTCOME[outcome] };
}

/** The batch handler without middleware: `(event, context) => partial batch response`. */
export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Shortest claim a worker takes, even when its invocation is about to end. */
const LOCK_FLOOR_MS = 1000;

interface WorkerState {
  readonly config: WorkerConfig;
  readonly store: DeliveryStore;
  readonly validator: PayloadValidator;
}

/**
 * Builds the batch handler of a worker. Configuration is read on the first invocation (so importing
 * a handler module never fails) and kept for the life of the execution environment.
 */
export function createBatchHandler(
  runner: RpcRunner,
  options: WorkerOptions,
  deps: WorkerDependencies,
): BatchHandler {
  const { concurrency, backoff, maxResultBytes } = resolveWorkerOptions(options);
  let state: WorkerState | undefined;

  const init = (): WorkerState => {
    if (state) return state;
    const config = loadWorkerConfig(deps.config);
    state = {
      config,
      store: new DeliveryStore(deps.dynamo, config.deliveriesTable, config.recordRetentionSeconds),
      validator: new PayloadValidator(config.eventSchemas),
    };
    return state;
  };

  const processRecord = async (record: SQSRecord, context: Context): Promise<RecordOutcome> => {
    const { config, store, validator } = init();
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;

    let delivery: Delivery;
    try {
      delivery = parseMessage(record.body, config.rpc);
    } catch (error) {
      const log = deliveryLogger(deps.logger, {
        rpc: config.rpc,
        eventId: peekEventId(record.body) ?? 'unknown',
        correlationId: 'unknown',
        attempt: 0,
        messageId: record.messageId,
      });
      return deadLetter(record, log, summarizeError(error), {
        rpc: config.rpc,
        eventId: peekEventId(record.body),
      });
    }

    const log = deliveryLogger(deps.logger, {
      rpc: config.rpc,
      eventId: delivery.eventId,
      correlationId: delivery.correlationId,
      attempt: 0,
      eventName: delivery.eventName,
      messageId: record.messageId,
    });
    const key: DeliveryKey = { eventId: delivery.eventId, rpc: config.rpc };
    const ownAddress = { rpc: config.rpc, eventId: delivery.eventId };

    try {
      if (delivery.rpc !== config.rpc) {
        const error = new PoisonMessageError(
          'UnknownRpc',
          `The message is addressed to RPC "${delivery.rpc}" but arrived at the worker of "${config.rpc}". ` +
            'A rule target points at the wrong queue: run `event-router validate` and redeploy.',
        );
        return await deadLetter(record, log, summarizeError(error), {
          rpc: delivery.rpc,
          eventId: delivery.eventId,
        });
      }
      if (!runner.handles(delivery.eventName, config)) {
        const error = new PoisonMessageError(
          'UnknownEvent',
          `${config.rpc} has no handler for event "${delivery.eventName}". Add it to the RPC's defineRpc() ` +
            'or remove the subscription from event-router.yaml.',
        );
        return await deadLetter(record, log, summarizeError(error), ownAddress, { key, delivery });
      }
      try {
        validator.validate(delivery.eventName, delivery.payload);
      } catch (error) {
        return await deadLetter(record, log, summarizeError(error), ownAddress, { key, delivery });
      }

      const lockMs = Math.max(context.getRemainingTimeInMillis(), LOCK_FLOOR_MS);
      const claim = await store.claim(key, {
        eventName: delivery.eventName,
        correlationId: delivery.correlationId,
        ...(delivery.causationId ? { causationId: delivery.causationId } : {}),
        now: deps.now(),
        lockMs,
      });
      if (claim.kind === 'completed') {
        log.info('Duplicate delivery acknowledged without running: already completed', {
          attempts: claim.attempts,
          ...ended('duplicate'),
        });
        return 'duplicate';
      }
      if (claim.kind === 'busy') {
        const untilFree = claim.lockExpiresAt === undefined ? 0 : (claim.lockExpiresAt - deps.now()) / 1000;
        const seconds = Math.max(1, Math.min(Math.ceil(untilFree), backoff.maxSeconds));
        log.info('Delivery is being handled by another worker; retrying later', {
          retryInSeconds: seconds,
          ...ended('busy'),
        });
        await changeVisibility(record, log, seconds);
        return 'busy';
      }

      return await runClaimed(record, delivery, key, claim.attempt, receiveCount, context, log);
    } catch (error) {
      log.error('The worker could not finish this delivery; it returns to the queue', {
        error: error as Error,
        ...ended('error'),
      });
      return 'error';
    }
  };

  const runClaimed = async (
    record: SQSRecord,
    delivery: Delivery,
    key: DeliveryKey,
    attempt: number,
    receiveCount: number,
    context: Context,
    parentLog: Logger,
  ): Promise<RecordOutcome> => {
    const { config, store } = init();
    const log = parentLog.createChild({ persistentKeys: { attempt } });
    const ctx: DeliveryContext = {
      rpc: config.rpc,
      eventId: delivery.eventId,
      eventName: delivery.eventName,
      occurredAt: delivery.occurredAt,
      attempt,
      correlationId: delivery.correlationId,
      causationId: delivery.causationId,
      logger: log,
      publish: createPublisher(
        {
          eventId: delivery.eventId,
          correlationId: delivery.correlationId,
          rpc: config.rpc,
          app: config.app,
        },
        {
          bus: deps.eventBus,
          busName: config.eventBus,
          now: deps.now,
          sleep: deps.sleep,
          schemaVersionOf: deps.schemaVersionOf ?? (() => 1),
        },
      ),
      remainingTimeMs: () => context.getRemainingTimeInMillis(),
    };
    log.debug('Running handler', { payload: delivery.payload });
    const started = deps.now();

    let result: unknown;
    try {
      result = await runner.run(delivery.payload, ctx, config);
    } catch (error) {
      const summary = summarizeError(error);
      const lastReceive = receiveCount >= config.maxReceiveCount;
      if (!summary.retryable || lastReceive) {
        const reason = summary.retryable
          ? {
              ...summary,
              message: `${summary.message} (receive ${receiveCount} of ${config.maxReceiveCount})`,
            }
          : summary;
        return deadLetter(
          record,
          log,
          reason,
          { rpc: config.rpc, eventId: delivery.eventId },
          {
            key,
            delivery,
            attempt,
          },
        );
      }
      const recorded = await store.fail(key, attempt, summary, deps.now());
      const seconds = backoffSeconds(receiveCount, backoff);
      log.warn('Handler failed; the delivery will be retried', {
        errorName: summary.name,
        errorMessage: summary.message,
        retryInSeconds: seconds,
        claimLost: !recorded,
        ...ended('retry'),
      });
      await changeVisibility(record, log, seconds);
      return 'retry';
    }

    const completed = await store.complete(key, attempt, boundedResult(result, maxResultBytes), deps.now());
    if (!completed) {
      log.warn('Handler finished after its claim expired and another worker took the delivery over', {
        durationMs: deps.now() - started,
        ...ended('busy'),
      });
      return 'busy';
    }
    log.info('Delivery completed', { durationMs: deps.now() - started, ...ended('completed') });
    return 'completed';
  };

  /**
   * Records DEAD (when the delivery is this worker's), sends the message to the DLQ with its reason
   * and acknowledges it. Recording comes first: if the send fails the message returns to the queue
   * and the next receive sends it; nothing reaches the DLQ without its record saying so.
   */
  const deadLetter = async (
    record: SQSRecord,
    log: Logger,
    error: ErrorSummary,
    address: { rpc: string; eventId?: string },
    own?: { key: DeliveryKey; delivery: Delivery; attempt?: number },
  ): Promise<RecordOutcome> => {
    const { config, store } = init();
    try {
      if (own) {
        const outcome = await store.markDead(own.key, {
          error,
          now: deps.now(),
          attempt: own.attempt,
          eventName: own.delivery.eventName,
          correlationId: own.delivery.correlationId,
          ...(own.delivery.causationId ? { causationId: own.delivery.causationId } : {}),
        });
        if (outcome === 'completed') {
          log.info('Duplicate delivery acknowledged without running: already completed', ended('duplicate'));
          return 'duplicate';
        }
        if (outcome === 'lost') {
          log.warn(
            'Claim expired while the handler ran; another worker owns the delivery now',
            ended('busy'),
          );
          return 'busy';
        }
      }
      await sendToDeadLetterQueue(deps.queue, config.dlqUrl, {
        body: record.body,
        error,
        rpc: address.rpc,
        eventId: address.eventId,
        attempts: own?.attempt ?? 0,
        failedAt: deps.now(),
      });
      log.error('Delivery sent to the DLQ', {
        errorType: error.name,
        errorMessage: error.message,
        ...ended('dead-lettered'),
      });
      return 'dead-lettered';
    } catch (sendError) {
      log.error('Could not dead-letter the delivery; it returns to the queue', {
        error: sendError as Error,
        ...ended('error'),
      });
      return 'error';
    }
  };

  const changeVisibility = async (record: SQSRecord, log: Logger, seconds: number): Promise<void> => {
    const { config } = init();
    const queueUrl = sourceQueueUrl(config.dlqUrl, record.eventSourceARN);
    if (!queueUrl) return;
    try {
      await delayRetry(deps.queue, queueUrl, record.receiptHandle, seconds);
    } catch (error) {
      log.warn('Could not delay the retry; the queue visibility timeout applies', { error: String(error) });
    }
  };

  return async (event, context) => {
    // A missing or broken configuration fails the whole invocation, loudly, before any record is touched.
    init();
    const outcomes = await mapWithConcurrency(event.Records, concurrency, async (record) => {
      try {
        return await processRecord(record, context);
      } catch (error) {
        deps.logger.error('Unexpected error while handling a record; it returns to the queue', {
          messageId: record.messageId,
          error: String(error),
          ...ended('error'),
        });
        return 'error' as const;
      }
    });
    return {
      batchItemFailures: event.Records.filter((_, i) =>
        RETURNS_TO_QUEUE.has(outcomes[i] as RecordOutcome),
      ).map((record) => ({ itemIdentifier: record.messageId })),
    };
  };
}
