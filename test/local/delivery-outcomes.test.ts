/**
 * The runtime's delivery lines name what the event-router worker did with each record: a duplicate
 * of a completed delivery, a delivery another worker holds, and a dead letter are not shown as `ok`.
 * A one-stack assembly written here runs a worker bundled the way the function construct bundles it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DeliveryStatus } from '../../common/contracts.ts';
import { formatDelivery } from '../../lib/cli/present/terminal-log.ts';
import type { DeliveryLog } from '../../lib/local/lambda/poller.ts';
import { deliveriesTableResource } from '../support/deliveries-table.ts';
import { workerResources } from '../support/worker-template.ts';
import { bundleAsset } from '../worker/support/bundle.ts';
import { authorizedPayload } from '../worker/support/harness.ts';
import { busEvent, queueMessage } from '../worker/support/messages.ts';
import { eventually, type Harness, startHarness, writeStackAssembly } from './helpers.ts';

const STACK = 'outcomes-dev';
const RPC = 'Svc/Work';
const EVENT = 'card.transaction.authorized';
const TABLE = `${STACK}-deliveries`;
const QUEUE = `${STACK}-work`;

/** The RPC: refuses amount 13 for good, otherwise completes. */
const RPC_MODULE = `
import { defineRpc, NonRetryableError } from './functions/commons/rpc.ts';
export const handler = defineRpc('${EVENT}', async (payload) => {
  if (payload.amount === 13) throw new NonRetryableError('Amount 13 is refused.');
  return 'done';
});
`;

/** Writes a cloud assembly with one worker (queue, DLQ, deliveries table, mapping) into `dir`. */
async function writeAssembly(dir: string): Promise<void> {
  await bundleAsset(join(dir, 'asset.worker'), { contents: RPC_MODULE, sourcefile: 'outcome-worker.ts' });
  writeStackAssembly(dir, STACK, {
    Resources: {
      Deliveries: deliveriesTableResource(TABLE),
      ...workerResources('Work', {
        rpc: RPC,
        queueName: QUEUE,
        dlqName: `${QUEUE}-dlq`,
        functionName: `${STACK}-work`,
        asset: 'asset.worker',
      }),
    },
  });
}

describe('delivery lines of the event-router worker', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'er-outcomes-'));
  let h: Harness;
  let queueUrl: string;

  before(async () => {
    await writeAssembly(dir);
    // No retry delay override: a message the worker sends back keeps the visibility it set.
    h = await startHarness({ cdkOut: dir, retryDelaySeconds: undefined });
    assert.deepEqual(h.runtime.model.problems, []);
    ({ QueueUrl: queueUrl = '' } = await h.sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE })));
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `body` to the worker's queue and returns the delivery line of that message. */
  async function deliver(body: string, attributes: Record<string, string> = {}): Promise<DeliveryLog> {
    const MessageAttributes = Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
    );
    const { MessageId } = await h.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes }),
    );
    return eventually(
      () => h.deliveries.find((d) => d.messageId === MessageId),
      30_000,
      `the delivery line of message ${MessageId}`,
    );
  }

  /** Writes a delivery record of the RPC for `eventId`, as a worker would have left it, kept until `expiresAtMs`. */
  async function putDelivery(
    eventId: string,
    status: DeliveryStatus,
    attempts: number,
    expiresAtMs: number,
    extra: Record<string, AttributeValue> = {},
  ): Promise<void> {
    await h.dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          eventId: { S: eventId },
          rpc: { S: RPC },
          status: { S: status },
          attempts: { N: String(attempts) },
          expiresAt: { N: String(Math.floor(expiresAtMs / 1000)) },
          ...extra,
        },
      }),
    );
  }

  const delivery = (eventId: string, amount = 1250) =>
    JSON.stringify(
      queueMessage(RPC, busEvent(EVENT, { ...authorizedPayload(eventId), amount }, { eventId })),
    );

  it('shows the second delivery of a completed event as a duplicate, not as ok', async () => {
    const eventId = randomUUID();

    const first = await deliver(delivery(eventId));
    const second = await deliver(delivery(eventId));

    assert.equal(first.outcome, 'ok');
    assert.equal(second.outcome, 'duplicate');
    assert.equal(second.eventId, eventId);
    assert.equal(first.workerAttempt, 1);
    assert.match(formatDelivery(first), / ok {2}attempt 1 /);
    assert.doesNotMatch(formatDelivery(first), /receive/);
    assert.match(formatDelivery(second), /duplicate \(already completed\) {2}attempt 1 /);
    assert.doesNotMatch(formatDelivery(second), / ok /);
  });

  it('shows a message the worker dead-lettered with its error type', async () => {
    const refused = await deliver(delivery(randomUUID(), 13));
    const unparseable = await deliver('not json');

    assert.equal(refused.outcome, 'dead-lettered');
    assert.equal(refused.errorType, 'NonRetryableError');
    assert.match(formatDelivery(refused), /dead-lettered: NonRetryableError .*Amount 13 is refused\./);
    assert.equal(unparseable.outcome, 'dead-lettered');
    assert.match(formatDelivery(unparseable), /dead-lettered: UnparseableMessage/);
  });

  it("shows a redriven delivery's attempt as the worker counts it, with the receive count", async () => {
    // Given a delivery that died after five handler runs (a redrive of its dead letter sends it again:
    // receive 1, carrying the DeadLetterId its record keeps)
    const eventId = randomUUID();
    const deadLetterId = randomUUID();
    await putDelivery(eventId, 'DEAD', 5, Date.now() + 3_600_000, { deadLetterId: { S: deadLetterId } });

    const line = await deliver(delivery(eventId), { DeadLetterId: deadLetterId });

    assert.equal(line.outcome, 'ok');
    assert.equal(line.attempt, 1);
    assert.equal(line.workerAttempt, 6);
    assert.match(formatDelivery(line), / ok {2}attempt 6 \(receive 1\) /);
  });

  it('shows a copy of a dead-lettered delivery as a duplicate that needs a redrive', async () => {
    // Given a DEAD delivery
    const eventId = randomUUID();
    await putDelivery(eventId, 'DEAD', 1, Date.now() + 3_600_000, { deadLetterId: { S: randomUUID() } });

    // When a copy of its message arrives that is no redrive of its dead letter
    const line = await deliver(delivery(eventId));

    assert.equal(line.outcome, 'duplicate');
    assert.equal(line.duplicateOf, 'dead-lettered');
    assert.match(formatDelivery(line), /= .*duplicate \(dead-lettered; redrive to run again\)/);
  });

  it('shows a copy of a delivery waiting out its backoff as rescheduled', async () => {
    // Given a FAILED delivery whose next attempt is a minute away
    const eventId = randomUUID();
    await putDelivery(eventId, 'FAILED', 1, Date.now() + 3_600_000, {
      runs: { N: '1' },
      retryAt: { N: String(Date.now() + 60_000) },
      lastError: { M: { name: { S: 'Error' }, message: { S: 'down' }, retryable: { BOOL: true } } },
    });

    const line = await deliver(delivery(eventId));

    assert.equal(line.outcome, 'rescheduled');
    assert.ok((line.retryInSeconds ?? 0) >= 59, `retry in ${line.retryInSeconds} s`);
    assert.match(formatDelivery(line), /rescheduled to its next attempt in \d+ s/);
  });

  it('shows a delivery another worker holds as in progress elsewhere', async () => {
    // Given a live claim of another worker on the delivery
    const eventId = randomUUID();
    const farAway = Date.now() + 3_600_000;
    await putDelivery(eventId, 'IN_PROGRESS', 1, farAway, { lockExpiresAt: { N: String(farAway) } });

    const line = await deliver(delivery(eventId));

    assert.equal(line.outcome, 'in-progress-elsewhere');
    assert.match(formatDelivery(line), /in progress elsewhere \(retry later\)/);
  });
});
