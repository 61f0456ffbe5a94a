/**
 * A bulk redrive against the real event-router worker (bundled the way the function construct bundles
 * it) on the local runtime: dead letters of a dependency that was down are moved back once it is up,
 * and a copy sent twice (what a crash between a send and its journal line leaves) runs the handler once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DEFAULT_RPC_SETTINGS, type RouterSpec } from '../../lib/config/types.ts';
import { names } from '../../lib/naming.ts';
import { copiedAttributes } from '../../lib/ops/dead-letter.ts';
import { RedriveJournal } from '../../lib/ops/journal.ts';
import { Operations } from '../../lib/ops/operations.ts';
import { eventually, type Harness, startHarness, writeStackAssembly } from '../local/helpers.ts';
import { deliveriesTableResource } from '../support/deliveries-table.ts';
import { workerResources } from '../support/worker-template.ts';
import { bundleAsset } from '../worker/support/bundle.ts';
import { authorizedPayload } from '../worker/support/harness.ts';
import { busEvent, queueMessage } from '../worker/support/messages.ts';

const RPC = 'Svc/Work';
const EVENT = 'card.transaction.authorized';
const at = { file: '/virtual/event-router.yaml', line: 1, col: 1 };
const SPEC: RouterSpec = {
  file: at.file,
  rootDir: '/virtual',
  app: {
    name: 'redrive',
    stage: 'dev',
    archiveRetentionDays: 30,
    dedupRetentionSeconds: 86_400,
    publishApi: { auth: { type: 'iam' }, rateLimit: 100, burstLimit: 200 },
  },
  events: [
    {
      name: EVENT,
      publisher: 'CardService',
      publishers: ['CardService'],
      schema: { type: 'object' },
      schemaVersion: 1,
      location: at,
    },
  ],
  services: [
    {
      name: 'Svc',
      location: at,
      rpcs: [
        {
          id: RPC,
          service: 'Svc',
          method: 'Work',
          target: { kind: 'handler', handler: 'functions/rpcs/work.ts' },
          settings: DEFAULT_RPC_SETTINGS,
          publishes: [],
          intendedLoop: false,
          location: at,
        },
      ],
    },
  ],
  subscriptions: [{ event: EVENT, rpc: RPC, location: at }],
  publishers: [{ name: 'CardService', putsOnBus: true, events: [EVENT], location: at }],
};
const ctx = { app: SPEC.app.name, stage: SPEC.app.stage };
const TABLE = names.deliveriesTableName(ctx);
const QUEUE = names.queueName(ctx, RPC);
const DLQ = names.dlqName(ctx, RPC);

/** The RPC: counts its runs per transaction; refuses for good while the ledger switch is off. */
const RPC_MODULE = `
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { defineRpc, NonRetryableError } from './functions/commons/rpc.ts';
const db = new DynamoDBClient({});
const TableName = process.env.ER_DELIVERIES_TABLE;
export const handler = defineRpc('${EVENT}', async (payload) => {
  await db.send(new UpdateItemCommand({
    TableName,
    Key: { eventId: { S: 'runs#' + payload.transactionId }, rpc: { S: 'count' } },
    UpdateExpression: 'ADD n :one',
    ExpressionAttributeValues: { ':one': { N: '1' } },
  }));
  const on = await db.send(new GetItemCommand({ TableName, Key: { eventId: { S: 'switch' }, rpc: { S: 'ledger' } } }));
  if (!on.Item) throw new NonRetryableError('ledger is down for ' + payload.transactionId);
  return 'done';
});
`;

async function writeAssembly(dir: string): Promise<void> {
  await bundleAsset(join(dir, 'asset.worker'), { contents: RPC_MODULE, sourcefile: 'redrive-worker.ts' });
  writeStackAssembly(dir, 'redrive-dev', {
    Resources: {
      Deliveries: deliveriesTableResource(TABLE, { deadIndex: true }),
      ...workerResources('Work', {
        rpc: RPC,
        queueName: QUEUE,
        dlqName: DLQ,
        functionName: names.functionName(ctx, RPC),
        asset: 'asset.worker',
      }),
    },
  });
}

describe('bulk redrive through the real worker', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'er-ops-redrive-'));
  let h: Harness;
  let ops: Operations;

  before(async () => {
    await writeAssembly(dir);
    h = await startHarness({ cdkOut: dir });
    assert.deepEqual(h.runtime.model.problems, []);
    ops = new Operations({
      spec: SPEC,
      sqs: h.sqs,
      dynamodb: h.dynamodb,
      endpoint: h.runtime.url,
      operator: 'test:ops',
    });
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function runs(tx: string): Promise<number> {
    const { Item } = await h.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { eventId: { S: `runs#${tx}` }, rpc: { S: 'count' } } }),
    );
    return Number(Item?.n?.N ?? 0);
  }

  async function status(eventId: string): Promise<string | undefined> {
    const { Item } = await h.dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { eventId: { S: eventId }, rpc: { S: RPC } } }),
    );
    return Item?.status?.S;
  }

  /** Sends one delivery per transaction to the RPC's queue. */
  async function deliver(txs: readonly string[]): Promise<void> {
    const { QueueUrl = '' } = await h.sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE }));
    for (const tx of txs)
      await h.sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: JSON.stringify(
            queueMessage(RPC, busEvent(EVENT, authorizedPayload(tx), { eventId: `ev-${tx}` })),
          ),
        }),
      );
  }

  /** Waits until every transaction's delivery is DEAD (recorded once the DLQ took its message). */
  async function allDead(txs: readonly string[]): Promise<void> {
    await eventually(
      async () =>
        (await Promise.all(txs.map((tx) => status(`ev-${tx}`)))).every((s) => s === 'DEAD')
          ? true
          : undefined,
      30_000,
      `${txs.length} DEAD records`,
    );
  }

  it('moves the dead letters back once the dependency is up; a copy sent twice runs once', async () => {
    // Given four deliveries that died while the ledger was down
    const { QueueUrl = '' } = await h.sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE }));
    const txs = ['tx-101', 'tx-202', 'tx-303', 'tx-404'];
    await deliver(txs);
    await eventually(
      async () => ((await ops.peek(RPC, 10)).length === 4 ? true : undefined),
      30_000,
      'four dead letters',
    );
    await allDead(txs);
    for (const tx of txs) assert.equal(await status(`ev-${tx}`), 'DEAD');
    // And the ledger is back
    await h.dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: { eventId: { S: 'switch' }, rpc: { S: 'ledger' } } }),
    );
    // An EventBridge delivery failure (no worker saw it) sits in the DLQ too
    const { QueueUrl: dlqUrl = '' } = await h.sqs.send(new GetQueueUrlCommand({ QueueName: DLQ }));
    await h.sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify(busEvent(EVENT, authorizedPayload('tx-eb'), { eventId: 'ev-tx-eb' })),
        MessageAttributes: {
          ERROR_CODE: { DataType: 'String', StringValue: 'SQS.AccessDenied' },
          ERROR_MESSAGE: { DataType: 'String', StringValue: 'Access to the queue was denied' },
        },
      }),
    );
    const reading = await ops.failureGroups();
    // The worker's dead deliveries come from the index of DEAD records, the other one from a DLQ pass
    assert.deepEqual(
      reading.rpcs.map((r) => [r.rpc, r.source, r.read]),
      [[RPC, 'index+dlq', 5]],
    );
    const group = reading.groups;
    assert.equal(group.length, 2, 'one group: "ledger is down for <id>", one of EventBridge');
    assert.equal(group[0]?.source, 'index');
    assert.equal(group[0]?.count, 4);
    assert.match(group[0]?.signature ?? '', /ledger is down for/);
    assert.deepEqual(
      [group[1]?.source, group[1]?.errorType, group[1]?.count],
      ['dlq', 'SQS.AccessDenied', 1],
    );
    // The group's frozen set: the DLQ messages of its DEAD records
    const ids = await ops.groupMessageIds(group[0] as (typeof group)[number]);
    assert.equal(ids.length, 4);

    // When a run was killed after sending the copy of the first message but before its journal line:
    // the copy is in the queue, the original still in the DLQ, the journal knows nothing of it
    const first = (await ops.peek(RPC, 10)).find((d) => ids.includes(d.messageId));
    assert.ok(first);
    await h.sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: first.body,
        MessageAttributes: copiedAttributes(first),
      }),
    );
    const journal = RedriveJournal.create(join(dir, 'ops', 'redrive.jsonl'), {
      rpc: RPC,
      ids,
      who: 'test:ops',
      what: `group ${group[0]?.id}`,
      at: new Date().toISOString(),
    });
    // and the resumed run sends it again with the others
    const report = await ops.redriveSet(RPC, ids, { journal, rate: 50 });

    // Then every message moved, the DLQ is empty, every delivery completed,
    // and each handler ran twice in all: the failure and one success (the second copy was a duplicate)
    assert.equal(report.moved.length, 4);
    await eventually(
      async () =>
        (await Promise.all(txs.map((tx) => status(`ev-${tx}`)))).every((s) => s === 'COMPLETED')
          ? true
          : undefined,
      30_000,
      'every delivery COMPLETED',
    );
    await eventually(
      async () => {
        const [q, d] = await Promise.all([ops.depth(QUEUE), ops.depth(DLQ)]);
        return 'visible' in q && 'visible' in d && q.visible + q.inFlight + d.visible + d.inFlight === 1
          ? true
          : undefined;
      },
      30_000,
      'queue empty, only the EventBridge dead letter left in the DLQ',
    );
    // Redriven and completed: no longer in the index of DEAD records
    assert.deepEqual(await ops.deadRecords(RPC), []);
    for (const tx of txs) assert.equal(await runs(tx), 2, `${tx} ran once after the redrive`);
    assert.equal(RedriveJournal.open(journal.path).deleted.size, 4);
  });

  it('counts no group for DEAD records whose dead letters were purged; a later EventBridge failure still shows', async () => {
    // Given the ledger down again and two deliveries dead-lettered
    await h.dynamodb.send(
      new DeleteItemCommand({ TableName: TABLE, Key: { eventId: { S: 'switch' }, rpc: { S: 'ledger' } } }),
    );
    const { QueueUrl: dlqUrl = '' } = await h.sqs.send(new GetQueueUrlCommand({ QueueName: DLQ }));
    const txs = ['tx-505', 'tx-606'];
    await deliver(txs);
    await allDead(txs);
    // When the operator purges the DLQ (the records stay DEAD, still in the index)
    await ops.purge(RPC);
    assert.equal((await ops.deadRecords(RPC))?.length, 2);
    // and EventBridge then fails to deliver one event to the queue
    await h.sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify(busEvent(EVENT, authorizedPayload('tx-eb2'), { eventId: 'ev-tx-eb2' })),
        MessageAttributes: {
          ERROR_CODE: { DataType: 'String', StringValue: 'SQS.AccessDenied' },
          ERROR_MESSAGE: { DataType: 'String', StringValue: 'Access to the queue was denied' },
        },
      }),
    );
    // Then the groups are what the DLQ holds: the EventBridge failure, none of the purged letters
    const reading = await ops.failureGroups();
    assert.deepEqual(
      reading.groups.map((g) => [g.source, g.errorType, g.count]),
      [['dlq', 'SQS.AccessDenied', 1]],
    );
    assert.equal(reading.rpcs[0]?.source, 'index+dlq');
  });
});
