import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { run as publish } from '../../lib/cli/commands/publish.ts';
import { run as status } from '../../lib/cli/commands/status.ts';
import { type LocalDynamo, startDynalite } from '../support/dynalite.ts';
import { type EventBridgeStub, startEventBridgeStub } from './support/eventbridge-stub.ts';

const SPEC = join(import.meta.dirname, '..', '..', 'event-router.yaml');
const TABLE = 'cardflow-dev-deliveries';
const PAYLOAD = {
  transactionId: 't-1',
  cardId: 'c-1',
  cardholderId: 'h-1',
  amount: 9900,
  currency: 'EUR',
  merchant: { name: 'Cafe', category: '5814' },
};

/** Runs a command, capturing what it prints. */
async function capture(command: (args: string[]) => Promise<number>, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...parts: unknown[]) => out.push(parts.join(' '));
  console.error = (...parts: unknown[]) => err.push(parts.join(' '));
  try {
    const code = await command(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

let stub: EventBridgeStub;
let dynamo: LocalDynamo;
before(async () => {
  stub = await startEventBridgeStub();
  dynamo = await startDynalite(TABLE);
});
after(async () => {
  await stub.close();
  await dynamo.close();
});

describe('event-router publish', () => {
  it('validates, publishes to the router bus and prints the eventId', async () => {
    const args = [
      'card.transaction.authorized',
      JSON.stringify(PAYLOAD),
      '--file',
      SPEC,
      '--endpoint',
      stub.endpoint,
    ];
    const first = await capture(publish, [...args, '--idempotency-key', 'cli-1']);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /^[0-9a-f-]{36}$/);
    const entry = stub.accepted.at(-1);
    assert.equal(entry?.EventBusName, 'cardflow-dev-bus');
    // As the event's declared publisher, under its source: a source of its own would reach nobody.
    assert.equal(entry?.Source, 'event-router.cardflow.card-network');
    const again = await capture(publish, [...args, '--idempotency-key', 'cli-1']);
    assert.equal(again.out, first.out);
  });

  it('refuses to publish a follow-up or as a publisher that does not own the event', async () => {
    const followUp = await capture(publish, [
      'ledger.entry.recorded',
      '{"entryId":"e","transactionId":"t","amount":1,"currency":"EUR"}',
      '--file',
      SPEC,
      '--endpoint',
      stub.endpoint,
    ]);
    assert.equal(followUp.code, 1);
    assert.match(followUp.err, /is a follow-up: only LedgerService\/RecordTransaction publishes it/);
    const wrong = await capture(publish, [
      'card.transaction.settled',
      '{"transactionId":"t","settledAmount":1,"currency":"EUR"}',
      '--as',
      'MobileApp',
      '--file',
      SPEC,
      '--endpoint',
      stub.endpoint,
    ]);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.err,
      /MobileApp may not publish "card.transaction.settled"; its publisher is CardNetwork/,
    );
  });

  it('reads the payload from @file', async () => {
    const file = join(tmpdir(), `er-payload-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ transactionId: 't', settledAmount: 1, currency: 'EUR' }));
    const result = await capture(publish, [
      'card.transaction.settled',
      `@${file}`,
      '--file',
      SPEC,
      '--endpoint',
      stub.endpoint,
      '--json',
    ]);
    rmSync(file, { force: true });
    assert.equal(result.code, 0, result.err);
    assert.equal((JSON.parse(result.out) as { event: string }).event, 'card.transaction.settled');
  });

  it('refuses an invalid payload, naming the pointer, and sends nothing', async () => {
    const before = stub.calls.length;
    const result = await capture(publish, [
      'card.transaction.authorized',
      JSON.stringify({ ...PAYLOAD, currency: 'euro' }),
      '--file',
      SPEC,
      '--endpoint',
      stub.endpoint,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.err, /payload: \/currency must match pattern/);
    assert.equal(stub.calls.length, before);
  });

  it('suggests the closest event for a misspelt name, and explains bad JSON', async () => {
    const unknown = await capture(publish, [
      'card.transaction.authorised',
      '{}',
      '--file',
      SPEC,
      '--endpoint',
      stub.endpoint,
    ]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /Closest known events: card\.transaction\.authorized/);
    const badJson = await capture(publish, [
      'card.transaction.authorized',
      '{oops',
      '--file',
      SPEC,
      '--endpoint',
      stub.endpoint,
    ]);
    assert.equal(badJson.code, 1);
    assert.match(badJson.err, /not valid JSON/);
  });
});

describe('event-router status', () => {
  it('prints each subscribed RPC with its state and exits 3 while some are pending', async () => {
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          eventId: 'cli-e1',
          rpc: 'LedgerService/RecordTransaction',
          status: 'COMPLETED',
          eventName: 'card.transaction.authorized',
          attempts: 1,
          updatedAt: 1,
          completedAt: Date.parse('2026-11-25T10:00:00Z'),
          expiresAt: 2,
        },
      }),
    );
    const result = await capture(status, ['cli-e1', '--file', SPEC, '--endpoint', dynamo.endpoint]);
    assert.equal(result.code, 3, result.err);
    assert.match(result.out, /LedgerService\/RecordTransaction\s+COMPLETED\s+2026-11-25T10:00:00\.000Z/);
    assert.match(result.out, /NotificationService\/NotifyCardholder\s+PENDING/);
    assert.match(result.out, /ReceiptService\/RequestReceipt\s+PENDING\s+not received yet \(content filter/);
    assert.match(result.out, /1 of 3 completed/);
  });

  it('shows the correlation and the event that caused this one in its first line', async () => {
    await dynamo.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          eventId: 'cli-e2',
          rpc: 'LedgerService/RecordTransaction',
          status: 'COMPLETED',
          eventName: 'card.transaction.authorized',
          correlationId: 'corr-cli-2',
          causationId: 'cli-parent-2',
          attempts: 1,
          updatedAt: 1,
          expiresAt: 2,
        },
      }),
    );
    const text = await capture(status, ['cli-e2', '--file', SPEC, '--endpoint', dynamo.endpoint]);
    assert.match(text.out.split('\n')[0] ?? '', /correlation corr-cli-2, caused by cli-parent-2/);
    const json = await capture(status, ['cli-e2', '--file', SPEC, '--endpoint', dynamo.endpoint, '--json']);
    assert.equal((JSON.parse(json.out) as { causationId?: string }).causationId, 'cli-parent-2');
  });

  it('exits 1 for an unknown event id', async () => {
    const result = await capture(status, ['nope', '--file', SPEC, '--endpoint', dynamo.endpoint]);
    assert.equal(result.code, 1);
    assert.match(result.err, /--event <name>/);
  });
});
