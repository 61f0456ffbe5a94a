/**
 * One worker test environment: dynalite with the deliveries table, recording SQS and EventBridge
 * ports, a manual clock, and the configuration a construct would give the function.
 */

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryRecord } from '../../../common/contracts.ts';
import type { WorkerConfig } from '../../../functions/commons/config.ts';
import type { WorkerHandler } from '../../../functions/commons/handler.ts';
import { EVENT_SCHEMAS } from '../../../generated/events.ts';
import { type LocalDynamo, startDynalite } from '../../support/dynalite.ts';
import { ManualClock, quietLogger, RecordingBus, RecordingQueue } from './fakes.ts';
import { ACCOUNT } from './messages.ts';

export const QUEUE_NAME = 'cardflow-dev-test-queue';
export const DLQ_URL = `http://127.0.0.1:4566/${ACCOUNT}/${QUEUE_NAME}-dlq`;
export const QUEUE_URL = `http://127.0.0.1:4566/${ACCOUNT}/${QUEUE_NAME}`;

export interface Harness {
  readonly dynamo: LocalDynamo;
  readonly queue: RecordingQueue;
  readonly bus: RecordingBus;
  readonly clock: ManualClock;
  readonly config: WorkerConfig;
  /** `handler` wired to this environment (optionally with more overrides). */
  wire(handler: WorkerHandler, config?: Partial<WorkerConfig>): WorkerHandler;
  /** The stored record of a delivery. */
  record(eventId: string, rpc?: string): Promise<DeliveryRecord | undefined>;
  close(): Promise<void>;
}

/** Starts an environment for a worker of `rpc` with the schemas of event-router.yaml. */
export async function startHarness(rpc: string): Promise<Harness> {
  const dynamo = await startDynalite();
  const queue = new RecordingQueue();
  const bus = new RecordingBus();
  const clock = new ManualClock();
  const config: WorkerConfig = {
    rpc,
    app: 'cardflow',
    deliveriesTable: dynamo.tableName,
    dlqUrl: DLQ_URL,
    eventBus: 'cardflow-dev-bus',
    maxReceiveCount: 5,
    recordRetentionSeconds: 19 * 24 * 3600,
    eventSchemas: EVENT_SCHEMAS,
    remoteTimeoutMs: 2000,
  };
  return {
    dynamo,
    queue,
    bus,
    clock,
    config,
    wire: (handler, more = {}) =>
      handler.withDependencies({
        dynamo: dynamo.doc,
        deliveryRequests: dynamo.cached,
        queue,
        eventBus: bus,
        logger: quietLogger(),
        now: clock.now,
        sleep: async () => undefined,
        config: { ...config, ...more },
      }),
    record: async (eventId, forRpc = rpc) => {
      const output = await dynamo.doc.send(
        new GetCommand({ TableName: dynamo.tableName, Key: { eventId, rpc: forRpc }, ConsistentRead: true }),
      );
      return output.Item as DeliveryRecord | undefined;
    },
    close: () => dynamo.close(),
  };
}

/** A valid `card.transaction.authorized` payload. */
export function authorizedPayload(transactionId = 'tx-1', amount = 1250) {
  return {
    transactionId,
    cardId: 'card-1',
    cardholderId: 'holder-1',
    amount,
    currency: 'EUR',
    merchant: { name: 'Cafe Central', category: '5814', country: 'AT' },
  };
}
