/**
 * The worker pipeline for one SQS batch. Each record goes through the steps in `steps/`:
 *
 *   screen (poison -> dead-letter) -> claim (duplicate / busy / backoff / conflict end it here)
 *   -> run -> record (COMPLETED, or FAILED + back off, or DEAD + dead-letter)
 *
 * and ends with exactly one {@link Settled}, logged as the record's one outcome line (`outcome` from
 * outcome.ts, with its `messageId`) that the local runtime reads. Records of a batch run
 * concurrently up to a bound. Returns the partial batch response: the records whose outcome returns
 * them to the queue.
 *
 * What the RPC is (a local handler or a remote call) is the {@link RpcRunner}; everything else is here.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mapWithConcurrency } from '../../common/concurrency.ts';
import { DLQ_ATTRIBUTES, RERUN_ATTRIBUTES } from '../../common/contracts.ts';
import { returnsToQueue } from '../../common/outcome.ts';
import { replayCounter } from '../../common/replays.ts';
import { loadWorkerConfig } from './config.ts';
import { DeliveryStore } from './deliveries.ts';
import { type DeliveryLogKeys, deliveryLogger } from './logger.ts';
import { peekEventId } from './message.ts';
import { resolveWorkerOptions, type WorkerOptions } from './options.ts';
import { ReplayLedger } from './replays.ts';
import { PayloadValidator } from './schema.ts';
import {
  type Received,
  type RpcRunner,
  type Settled,
  settle,
  type WorkerDependencies,
  type WorkerScope,
} from './scope.ts';
import { claim } from './steps/claim.ts';
import { deadLetter } from './steps/dead-letter.ts';
import { record } from './steps/record.ts';
import { run } from './steps/run.ts';
import { screen } from './steps/screen.ts';

export type { WorkerOptions } from './options.ts';
export type { RpcRunner, WorkerDependencies } from './scope.ts';

/** The batch handler without middleware: `(event, context) => partial batch response`. */
export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** A string message attribute of a record, when set. */
function stringAttribute(record: SQSRecord, name: string): string | undefined {
  const value = record.messageAttributes?.[name]?.stringValue;
  return value ? value : undefined;
}

/** The record as the steps see it: its receive count and the attributes that mark a redrive or re-run. */
export function receive(record: SQSRecord): Received {
  const deadLetterId = stringAttribute(record, DLQ_ATTRIBUTES.deadLetterId);
  const rerunId = stringAttribute(record, RERUN_ATTRIBUTES.rerunId);
  return {
    record,
    receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
    ...(deadLetterId ? { deadLetterId } : {}),
    ...(rerunId ? { rerunId } : {}),
  };
}

/**
 * Runs one record through the steps; never throws. `invocationLog` is the logger of the invocation
 * (see {@link invocationLogger}); the environment's logger when not given. A replayed event
 * (`replayName`) is an operator re-run only when `replays` finds the tool's ops record asking for it
 * (replays.ts).
 */
export async function processRecord(
  scope: WorkerScope,
  sqsRecord: SQSRecord,
  context: Context,
  invocationLog: Logger = scope.deps.logger,
  replays?: ReplayLedger,
): Promise<{ settled: Settled; log: Logger; replayName?: string }> {
  const { config } = scope;
  let received = receive(sqsRecord);
  const screened = screen(scope, sqsRecord.body);
  const delivery = screened.kind === 'delivery' ? screened.delivery : screened.delivery;
  const replayName = delivery?.replayName;
  if (replayName && replays && !received.rerunId) {
    const rerunId = await replays.rerunIdFor(replayName, config.rpc).catch(() => undefined);
    if (rerunId) received = { ...received, rerunId };
  }
  const keys: DeliveryLogKeys = {
    rpc: config.rpc,
    eventId: delivery?.eventId ?? peekEventId(sqsRecord.body) ?? 'unknown',
    correlationId: delivery?.correlationId ?? 'unknown',
    attempt: 0,
    ...(delivery ? { eventName: delivery.eventName } : {}),
    messageId: sqsRecord.messageId,
  };
  let log = deliveryLogger(invocationLog, keys);
  try {
    if (screened.kind === 'poison')
      return {
        log,
        settled: await deadLetter(scope, received, {
          reason: screened.error,
          address: screened.address,
          attempts: 0,
          ...(screened.delivery
            ? {
                own: {
                  delivery: screened.delivery,
                  fence: {
                    kind: 'unclaimed',
                    ...(received.deadLetterId ? { redriveOf: received.deadLetterId } : {}),
                    ...(received.rerunId ? { rerunId: received.rerunId } : {}),
                  },
                },
              }
            : {}),
        }),
      };
    const claimed = await claim(scope, received, screened.delivery, context);
    if (!('kind' in claimed)) return { log, settled: claimed, ...(replayName ? { replayName } : {}) };
    log = deliveryLogger(invocationLog, { ...keys, attempt: claimed.attempt });
    const ran = await run(scope, screened.delivery, claimed.attempt, context, log);
    return {
      log,
      settled: await record(scope, received, screened.delivery, claimed, ran),
      ...(replayName ? { replayName } : {}),
    };
  } catch (error) {
    return {
      log,
      settled: settle('failed', 'The worker could not finish this delivery; it returns to the queue', {
        level: 'error',
        details: { error: error instanceof Error ? error : String(error) },
      }),
    };
  }
}

/**
 * The logger of one invocation: a child of the environment's logger, made as the invocation starts
 * (the logger middleware has just set this invocation's Lambda context on it, and the child copies
 * it with its cold start), so its lines keep their `function_request_id` even when another
 * invocation starts in the same process meanwhile (the local runtime overlaps invocations in one
 * process). One per batch; the deliveries' keys go with each line (logger.ts).
 */
function invocationLogger(parent: Logger): Logger {
  return parent.createChild();
}

/** Writes the record's one outcome line. */
function logOutcome(log: Logger, settled: Settled): void {
  const { report, details } = settled;
  log[settled.level](settled.message, { ...details, ...report });
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
  const resolved = resolveWorkerOptions(options);
  let scope: WorkerScope | undefined;
  let replays: ReplayLedger | undefined;
  const init = (): WorkerScope => {
    if (scope) return scope;
    const config = loadWorkerConfig(deps.config);
    scope = {
      runner,
      config,
      options: resolved,
      store: new DeliveryStore(
        deps.dynamo,
        config.deliveriesTable,
        config.recordRetentionSeconds,
        deps.deliveryRequests,
      ),
      validator: new PayloadValidator(config.eventSchemas),
      deps,
    };
    replays = new ReplayLedger(deps.dynamo, config.deliveriesTable);
    return scope;
  };

  return async (event, context) => {
    // A missing or broken configuration fails the whole invocation, loudly, before any record is touched.
    const ready = init();
    const invocationLog = invocationLogger(deps.logger);
    const settled = await mapWithConcurrency(event.Records, resolved.concurrency, async (sqsRecord) => {
      const { settled, log, replayName } = await processRecord(
        ready,
        sqsRecord,
        context,
        invocationLog,
        replays,
      );
      logOutcome(log, settled);
      const counter = replayName ? replayCounter(settled.report) : undefined;
      if (replayName && counter)
        await replays
          ?.count(replayName, ready.config.rpc, counter)
          .catch((error: unknown) =>
            log.warn('The replay outcome could not be counted', { replayName, error: String(error) }),
          );
      return settled;
    });
    return {
      batchItemFailures: event.Records.filter((_, i) => {
        const one = settled[i];
        return one === undefined || returnsToQueue(one.report);
      }).map((r) => ({ itemIdentifier: r.messageId })),
    };
  };
}
