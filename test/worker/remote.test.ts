/**
 * The remote RPC worker against a local HTTP server playing the remote service: one Connect call per
 * run, its headers, and how each class of answer ends (completed, dead-lettered, retried).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DLQ_ATTRIBUTES } from '../../common/contracts.ts';
import { RECORD_RESERVE_MS } from '../../common/remote-budget.ts';
import { handler } from '../../functions/remote-rpc/index.ts';
import { authorizedPayload, type Harness, startHarness } from './support/harness.ts';
import { busEvent, lambdaContext, queueMessage, sqsEvent, sqsRecord } from './support/messages.ts';

const RPC = 'FraudService/ScoreTransaction';
const EVENT = 'card.transaction.authorized';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** The remote service: `/status/<code>` answers with that status, `/slow` never answers. */
function startRemote(): Promise<{ server: Server; base: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ path, headers: request.headers, body });
      if (path === '/slow') return; // never answers
      const status = Number(path.split('/')[2] ?? '200');
      if (status === 204) {
        response.writeHead(204).end();
        return;
      }
      const answer =
        status < 300
          ? { score: 12, decision: 'allow' }
          : { code: status === 400 ? 'invalid_argument' : 'unavailable', message: `answered ${status}` };
      response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}`, received });
    });
  });
}

describe('remote RPC worker', () => {
  let h: Harness;
  let remote: Awaited<ReturnType<typeof startRemote>>;
  before(async () => {
    h = await startHarness(RPC);
    remote = await startRemote();
  });
  after(async () => {
    remote.server.closeAllConnections();
    await new Promise<void>((resolve) => remote.server.close(() => resolve()));
    await h.close();
  });

  async function call(
    path: string,
    options: { eventId?: string; receiveCount?: number; timeoutMs?: number; remainingMs?: number } = {},
  ) {
    const eventId = options.eventId ?? randomUUID();
    const messageId = randomUUID();
    const sentBefore = h.queue.sent.length;
    const receivedBefore = remote.received.length;
    const worker = h.wire(handler, {
      remoteUrl: `${remote.base}${path}`,
      remoteTimeoutMs: options.timeoutMs ?? 2000,
    });
    const event = busEvent(EVENT, authorizedPayload(eventId), { eventId, causationId: 'cause-1' });
    const response = await worker(
      sqsEvent([sqsRecord(queueMessage(RPC, event), { messageId, receiveCount: options.receiveCount })]),
      lambdaContext(options.remainingMs ?? 30_000),
    );
    return {
      eventId,
      messageId,
      retried: response.batchItemFailures.some((failure) => failure.itemIdentifier === messageId),
      deadLetters: h.queue.sent.slice(sentBefore),
      requests: remote.received.slice(receivedBefore),
      record: await h.record(eventId),
    };
  }

  it('completes on 2xx, posting the payload with the Connect and delivery headers', async () => {
    const { eventId, retried, requests, record } = await call('/status/200');

    assert.equal(retried, false);
    assert.equal(requests.length, 1);
    const [request] = requests;
    assert.deepEqual(JSON.parse(request?.body ?? ''), authorizedPayload(eventId));
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers['connect-protocol-version'], '1');
    assert.equal(request?.headers['connect-timeout-ms'], '2000');
    assert.equal(request?.headers['idempotency-key'], `${eventId}:${RPC}`);
    assert.match(String(request?.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(request?.headers['x-event-id'], eventId);
    assert.equal(request?.headers['x-event-name'], EVENT);
    assert.equal(request?.headers['x-correlation-id'], `corr-${eventId}`);
    assert.equal(request?.headers['x-causation-id'], 'cause-1');
    assert.equal(request?.headers['x-delivery-attempt'], '1');
    assert.equal(record?.status, 'COMPLETED');
    assert.equal(record?.result, JSON.stringify({ score: 12, decision: 'allow' }));
  });

  it('completes on 204 with no result', async () => {
    const { retried, record } = await call('/status/204');
    assert.equal(retried, false);
    assert.equal(record?.status, 'COMPLETED');
    assert.equal(record?.result, undefined);
  });

  for (const status of [400, 403, 404, 422]) {
    it(`dead-letters on ${status} without retrying`, async () => {
      const { retried, deadLetters, record, requests } = await call(`/status/${status}`);

      assert.equal(retried, false);
      assert.equal(requests.length, 1);
      assert.equal(deadLetters.length, 1);
      assert.equal(
        deadLetters[0]?.MessageAttributes?.[DLQ_ATTRIBUTES.errorType]?.StringValue,
        'RemoteRpcRejected',
      );
      assert.match(
        deadLetters[0]?.MessageAttributes?.[DLQ_ATTRIBUTES.errorMessage]?.StringValue ?? '',
        new RegExp(`answered ${status}`),
      );
      assert.equal(record?.status, 'DEAD');
    });
  }

  for (const status of [408, 409, 429, 500, 503]) {
    it(`retries on ${status}`, async () => {
      const { retried, deadLetters, record } = await call(`/status/${status}`, { receiveCount: 1 });

      assert.equal(retried, true);
      assert.equal(deadLetters.length, 0);
      assert.equal(record?.status, 'FAILED');
      assert.equal(record?.lastError?.name, 'RemoteRpcError');
      assert.equal(record?.lastError?.retryable, true);
      assert.match(record?.lastError?.message ?? '', new RegExp(`answered ${status}`));
    });
  }

  it('quotes the Connect error code of a failed call', async () => {
    const { deadLetters } = await call('/status/400');
    assert.match(
      deadLetters[0]?.MessageAttributes?.[DLQ_ATTRIBUTES.errorMessage]?.StringValue ?? '',
      /invalid_argument: answered 400/,
    );
  });

  it('retries a call that times out', async () => {
    const { retried, record, requests } = await call('/slow', { timeoutMs: 150 });

    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.headers['connect-timeout-ms'], '150');
    assert.equal(retried, true);
    assert.equal(record?.status, 'FAILED');
    assert.match(record?.lastError?.message ?? '', /did not answer within 150 ms/);
  });

  it('gives a call what the invocation can spare, keeping time to record, and says when it cut the call', async () => {
    // 1 s left in the invocation, 2 s configured: the call gets 1 s less what recording needs
    const { record, requests } = await call('/slow', { timeoutMs: 2000, remainingMs: 1000 });

    assert.equal(requests[0]?.headers['connect-timeout-ms'], String(1000 - RECORD_RESERVE_MS));
    assert.equal(record?.status, 'FAILED');
    assert.match(
      record?.lastError?.message ?? '',
      new RegExp(`did not answer within ${1000 - RECORD_RESERVE_MS} ms \\(cut from the configured 2000 ms`),
    );
  });

  it('retries when the remote cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const eventId = randomUUID();
    const worker = h.wire(handler, { remoteUrl: `http://127.0.0.1:${port}/x` });

    const response = await worker(
      sqsEvent([
        sqsRecord(queueMessage(RPC, busEvent(EVENT, authorizedPayload(eventId), { eventId })), {
          messageId: 'down',
        }),
      ]),
      lambdaContext(),
    );

    assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: 'down' }] });
    const record = await h.record(eventId);
    assert.equal(record?.status, 'FAILED');
    assert.match(record?.lastError?.message ?? '', /failed/);
  });

  it('keeps the idempotency key and the trace across retries of one delivery', async () => {
    const eventId = randomUUID();
    const first = await call('/status/503', { eventId, receiveCount: 1 });
    h.clock.advance(10_000); // the delivery's backoff after its first failed run
    const second = await call('/status/200', { eventId, receiveCount: 2 });

    const [a] = first.requests;
    const [b] = second.requests;
    assert.equal(a?.headers['idempotency-key'], b?.headers['idempotency-key']);
    const traceOf = (value: unknown) => String(value).split('-')[1];
    const spanOf = (value: unknown) => String(value).split('-')[2];
    assert.equal(traceOf(a?.headers.traceparent), traceOf(b?.headers.traceparent));
    assert.notEqual(spanOf(a?.headers.traceparent), spanOf(b?.headers.traceparent));
    assert.equal(b?.headers['x-delivery-attempt'], '2');
    assert.equal(second.record?.status, 'COMPLETED');
  });

  it('does not call the remote for a payload that violates the schema', async () => {
    const eventId = randomUUID();
    const before = remote.received.length;
    const worker = h.wire(handler, { remoteUrl: `${remote.base}/status/200` });
    await worker(
      sqsEvent([sqsRecord(queueMessage(RPC, busEvent(EVENT, { transactionId: 1 }, { eventId })))]),
      lambdaContext(),
    );
    assert.equal(remote.received.length, before);
    assert.equal((await h.record(eventId))?.status, 'DEAD');
  });
});
