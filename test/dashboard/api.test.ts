/**
 * The dashboard's JSON API against the real local runtime (SQS, DynamoDB behind one port) through a
 * front server that mounts the dashboard the way the runtime does.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type {
  EventLookup,
  PeekedMessage,
  RecentDeliveries,
  RpcDepths,
} from '../../lib/local/dashboard/data.ts';
import type { Graph } from '../../lib/local/dashboard/graph.ts';
import { createDashboard } from '../../lib/local/dashboard/index.ts';
import { names } from '../../lib/naming.ts';
import {
  CARRIER_TIMEOUT,
  type DashboardHarness,
  MISSING_EMAIL,
  SPEC,
  startDashboardHarness,
} from './harness.ts';

const CHARGE = 'BillingService/ChargeCard';
const RECEIPT = 'MailService/SendReceipt';
const TRACKING = 'MailService/SendTracking';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('dashboard JSON API', () => {
  let h: DashboardHarness;
  before(async () => {
    h = await startDashboardHarness();
  });
  after(async () => {
    await h.close();
  });

  it('serves the event -> RPC graph with filters and the conventional queue names', async () => {
    const { status, body } = await h.getJson<Graph>('/_dashboard/api/graph');
    assert.equal(status, 200);
    assert.deepEqual(
      body.events.map((e) => [e.name, e.subscribers.map((s) => s.rpc)]),
      [
        ['order.placed', [CHARGE, RECEIPT]],
        ['order.shipped', [TRACKING]],
      ],
    );
    const receipt = body.events[0]?.subscribers.find((s) => s.rpc === RECEIPT);
    assert.ok(receipt?.filter, 'the filtered subscription carries its filter');
    assert.deepEqual(body.events[1]?.publishedBy, [CHARGE]);
    const charge = body.rpcs.find((r) => r.id === CHARGE);
    assert.equal(charge?.queueName, names.queueName({ app: 'shop', stage: 'test' }, CHARGE));
    assert.equal(charge?.dlqName, names.dlqName({ app: 'shop', stage: 'test' }, CHARGE));
    assert.equal(body.deliveriesTable, 'shop-test-deliveries');
  });

  it('reports queue depths (visible / in flight) and DLQ depths per RPC', async () => {
    // Given two messages on the tracking queue, one of them received (in flight), and one dead letter
    await h.enqueue(TRACKING, 'order.shipped', 'ship-1');
    await h.enqueue(TRACKING, 'order.shipped', 'ship-2');
    await h.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: await h.queueUrl(TRACKING, 'queue'),
        MaxNumberOfMessages: 1,
        VisibilityTimeout: 600,
      }),
    );
    await h.deadLetter(TRACKING, 'order.shipped', 'ship-0', CARRIER_TIMEOUT);
    // When
    const { status, body } = await h.getJson<{ rpcs: RpcDepths[] }>('/_dashboard/api/queues');
    // Then
    assert.equal(status, 200);
    assert.deepEqual(
      body.rpcs.map((r) => r.rpc),
      [CHARGE, RECEIPT, TRACKING],
    );
    const tracking = body.rpcs.find((r) => r.rpc === TRACKING);
    assert.deepEqual(tracking?.queue, {
      name: names.queueName({ app: 'shop', stage: 'test' }, TRACKING),
      visible: 1,
      inFlight: 1,
      delayed: 0,
    });
    assert.ok(tracking && !('error' in tracking.dlq));
    assert.equal(tracking && 'visible' in tracking.dlq ? tracking.dlq.visible : -1, 1);
  });

  it('peeks at a DLQ with the failure reasons and leaves the messages in it', async () => {
    // Given two dead letters
    await h.deadLetter(RECEIPT, 'order.placed', 'ord-7', MISSING_EMAIL);
    await h.deadLetter(RECEIPT, 'order.placed', 'ord-8', {
      type: 'RemoteError',
      message: 'mail server said 503',
    });
    // When
    const { status, body } = await h.getJson<{ messages: PeekedMessage[] }>(
      `/_dashboard/api/dlq?rpc=${encodeURIComponent(RECEIPT)}`,
    );
    // Then both are shown with reason, attempts, time, event name and eventId
    assert.equal(status, 200);
    const byId = new Map(body.messages.map((m) => [m.eventId, m]));
    assert.equal(body.messages.length, 2);
    assert.deepEqual(
      { ...byId.get('ord-7'), body: undefined, messageId: undefined, receiveCount: undefined },
      {
        eventName: 'order.placed',
        eventId: 'ord-7',
        errorType: 'ValidationError',
        errorMessage: 'payload.email is missing',
        attempts: '5',
        failedAt: '2026-11-25T10:01:02.000Z',
        body: undefined,
        messageId: undefined,
        receiveCount: undefined,
      },
    );
    assert.equal(byId.get('ord-8')?.errorType, 'RemoteError');
    // and the masked fields hold the message itself: its body (with the event) and a receive count
    assert.match(byId.get('ord-7')?.body ?? '', /"eventId":"ord-7"/);
    assert.ok((byId.get('ord-7')?.receiveCount ?? 0) >= 1);
    assert.ok(byId.get('ord-7')?.messageId);
    // And they were released: still visible, ready to be redriven
    assert.deepEqual(await h.depth(RECEIPT, 'dlq'), { visible: 2, inFlight: 0 });
  });

  it('redrives a DLQ into its RPC queue', async () => {
    // Given a dead letter on the charge DLQ
    await h.deadLetter(CHARGE, 'order.placed', 'ord-9', { type: 'Timeout', message: 'bank slow' });
    assert.deepEqual(await h.depth(CHARGE, 'dlq'), { visible: 1, inFlight: 0 });
    // When
    const { status, body } = await h.getJson<{
      taskHandle: string;
      sourceArn: string;
      destinationArn: string;
    }>(`/_dashboard/api/redrive?rpc=${encodeURIComponent(CHARGE)}`, { method: 'POST' });
    // Then the task moves it from the DLQ to the charge queue
    assert.equal(status, 202);
    assert.ok(body.taskHandle.length > 0);
    assert.match(body.sourceArn, /shop-test-billing-service-charge-card-dlq$/);
    assert.match(body.destinationArn, /shop-test-billing-service-charge-card$/);
    await until('the DLQ to drain', async () => (await h.depth(CHARGE, 'dlq')).visible === 0);
    await until('the message in the queue', async () => (await h.depth(CHARGE, 'queue')).visible === 1);
    const { body: after } = await h.getJson<{ rpcs: RpcDepths[] }>('/_dashboard/api/queues');
    const charge = after.rpcs.find((r) => r.rpc === CHARGE);
    assert.ok(charge && 'visible' in charge.dlq && 'visible' in charge.queue);
    assert.equal(charge.dlq.visible, 0);
    assert.equal(charge.queue.visible, 1);
  });

  it('refuses a redrive of an unknown RPC, by GET, or from another site', async () => {
    const unknown = await h.getJson<{ error: string }>('/_dashboard/api/redrive?rpc=Nope/Nothing', {
      method: 'POST',
    });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /no RPC "Nope\/Nothing".*BillingService\/ChargeCard/);
    const get = await h.getJson<{ error: string }>(
      `/_dashboard/api/redrive?rpc=${encodeURIComponent(CHARGE)}`,
    );
    assert.equal(get.status, 405);
    const cross = await h.getJson<{ error: string }>(
      `/_dashboard/api/redrive?rpc=${encodeURIComponent(CHARGE)}`,
      {
        method: 'POST',
        headers: { origin: 'http://evil.example' },
      },
    );
    assert.equal(cross.status, 403);
  });

  it('redirects a redrive posted by a plain form back to the page with a notice', async () => {
    await h.deadLetter(TRACKING, 'order.shipped', 'ship-9', { type: 'Timeout', message: 'x' });
    const response = await fetch(`${h.url}/_dashboard/api/redrive?rpc=${encodeURIComponent(TRACKING)}`, {
      method: 'POST',
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), `/?redriven=${encodeURIComponent(TRACKING)}`);
    const page = await (await fetch(`${h.url}${response.headers.get('location')}`)).text();
    assert.match(page, /Redrive of the DLQ of MailService\/SendTracking started/);
  });

  it('lists recent deliveries newest first, bounded by limit', async () => {
    await h.putDelivery({ eventId: 'd-1', rpc: CHARGE, status: 'COMPLETED', updatedAt: 1_000 });
    await h.putDelivery({
      eventId: 'd-2',
      rpc: CHARGE,
      status: 'FAILED',
      updatedAt: 3_000,
      lastError: { name: 'Timeout', message: 'slow', retryable: true },
    });
    await h.putDelivery({ eventId: 'd-3', rpc: RECEIPT, status: 'IN_PROGRESS', updatedAt: 2_000 });
    const all = await h.getJson<RecentDeliveries>('/_dashboard/api/deliveries');
    assert.equal(all.status, 200);
    const ours = all.body.items.filter((d) => d.eventId.startsWith('d-'));
    assert.deepEqual(
      ours.map((d) => [d.eventId, d.status]),
      [
        ['d-2', 'FAILED'],
        ['d-3', 'IN_PROGRESS'],
        ['d-1', 'COMPLETED'],
      ],
    );
    assert.deepEqual(ours[0]?.lastError, { name: 'Timeout', message: 'slow', retryable: true });
    const two = await h.getJson<RecentDeliveries>('/_dashboard/api/deliveries?limit=2');
    assert.equal(two.body.items.length, 2);
    assert.ok(two.body.scanned >= 3);
  });

  it('looks an event up: COMPLETED where recorded, PENDING for subscribers without a record', async () => {
    // Given one of the two subscribers of order.placed has handled ord-100
    await h.putDelivery({
      eventId: 'ord-100',
      rpc: CHARGE,
      status: 'COMPLETED',
      updatedAt: 5_000,
      attempts: 2,
    });
    // When
    const { status, body } = await h.getJson<EventLookup>('/_dashboard/api/events/ord-100');
    // Then the event name comes from the record and the other subscriber is PENDING (its subscription filters)
    assert.equal(status, 200);
    assert.equal(body.eventName, 'order.placed');
    assert.deepEqual(
      body.rows.map((r) => [r.rpc, r.status, r.filtered, r.record?.attempts]),
      [
        [CHARGE, 'COMPLETED', false, 2],
        [RECEIPT, 'PENDING', true, undefined],
      ],
    );
  });

  it('looks up an event with no record yet: every subscriber of the named event is PENDING', async () => {
    const named = await h.getJson<EventLookup>('/_dashboard/api/events/ship-new?event=order.shipped');
    assert.deepEqual(
      named.body.rows.map((r) => [r.rpc, r.status]),
      [[TRACKING, 'PENDING']],
    );
    const unnamed = await h.getJson<EventLookup>('/_dashboard/api/events/ship-new');
    assert.equal(unnamed.body.eventName, undefined);
    assert.deepEqual(unnamed.body.rows, []);
  });

  it('answers unknown API paths with 404 and leaves POST / to the AWS APIs', async () => {
    const missing = await h.getJson<{ error: string }>('/_dashboard/api/nothing');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /graph, queues, deliveries/);
    // POST / is an AWS call: the dashboard declines it and the runtime answers (here: GetQueueUrl)
    const response = await fetch(`${h.url}/`, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSQS.GetQueueUrl', 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ QueueName: names.queueName({ app: 'shop', stage: 'test' }, CHARGE) }),
    });
    assert.equal(response.status, 200);
    assert.match(((await response.json()) as { QueueUrl: string }).QueueUrl, /billing-service-charge-card$/);
  });

  it('says what is missing when the runtime does not have the queues or the table', async () => {
    // Given a dashboard for a stage the runtime was not started with
    const other = createDashboard({
      endpoint: h.url,
      region: 'us-east-1',
      spec: { ...SPEC, app: { ...SPEC.app, stage: 'gone' } },
    });
    const server = createServer((req, res) => {
      other(req, res).then((handled) => {
        if (!handled) res.writeHead(418).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      // When
      const queues = (await (await fetch(`${base}/_dashboard/api/queues`)).json()) as { rpcs: RpcDepths[] };
      const deliveries = (await (
        await fetch(`${base}/_dashboard/api/deliveries`)
      ).json()) as RecentDeliveries;
      const page = await fetch(`${base}/`);
      const aws = await fetch(`${base}/`, { method: 'POST' });
      // Then every depth carries a readable error, and so does the deliveries list; the page still renders
      const first = queues.rpcs[0];
      assert.ok(first && 'error' in first.queue);
      assert.match(
        first.queue.error,
        /Queue shop-gone-billing-service-charge-card does not exist on the runtime/,
      );
      assert.match(deliveries.error ?? '', /deliveries table shop-gone-deliveries does not exist/);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /title="Queue shop-gone-billing-service-charge-card does not exist/);
      assert.equal(aws.status, 418, 'POST / is left to the runtime');
    } finally {
      other.close();
      server.close();
      server.closeAllConnections();
    }
  });
});
