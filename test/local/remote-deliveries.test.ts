/**
 * Retries, backoff and dead letters per delivery (eventId + rpc), end to end: the remote (Connect)
 * worker bundled as the construct bundles it, run by the local runtime, calling a real HTTP server
 * that plays the remote service. Each case of the problem report is here: the same key twice with a
 * 400 (one call, one dead letter), twice 3 s apart with a 500 (at most maxReceiveCount calls, one
 * dead letter), a copy during backoff (rescheduled, not run), redrive, operator re-run, a chaos-style
 * count, and calls given the time their RPC's timeout allows.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryRecord } from '../../common/contracts.ts';
import { remoteCallTimeoutMs } from '../../common/remote-budget.ts';
import { formatDelivery } from '../../lib/cli/present/terminal-log.ts';
import { deliveriesTableResource } from '../support/deliveries-table.ts';
import { workerResources } from '../support/worker-template.ts';
import { bundleAsset } from '../worker/support/bundle.ts';
import { authorizedPayload } from '../worker/support/harness.ts';
import { busEvent, queueMessage } from '../worker/support/messages.ts';
import { drain, eventually, type Harness, startHarness, writeStackAssembly } from './helpers.ts';

const STACK = 'remote-dev';
const EVENT = 'card.transaction.authorized';
const TABLE = `${STACK}-deliveries`;
const MAX_RECEIVE_COUNT = 5;

/** The workers of the assembly: one per function timeout under test. */
const WORKERS = [
  { name: 'score', rpc: 'Fraud/Score', timeoutSeconds: 10 },
  { name: 't1', rpc: 'Fraud/OneSecond', timeoutSeconds: 1 },
  { name: 't2', rpc: 'Fraud/TwoSeconds', timeoutSeconds: 2 },
  { name: 't5', rpc: 'Fraud/FiveSeconds', timeoutSeconds: 5 },
] as const;
type WorkerName = (typeof WORKERS)[number]['name'];

/** How the remote answers one eventId: a status per call (the last one repeats), after a delay. */
interface Behaviour {
  readonly statuses: readonly number[];
  readonly delayMs?: number;
}

interface Call {
  readonly eventId: string;
  readonly attempt: number;
  readonly body: unknown;
  readonly timeoutMs: number;
}

/** The remote service: answers each eventId as told (200 when not told), recording every call. */
function startRemote(): Promise<{
  server: Server;
  base: string;
  calls: Call[];
  behave: Map<string, Behaviour>;
}> {
  const calls: Call[] = [];
  const behave = new Map<string, Behaviour>();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      const eventId = String(request.headers['x-event-id']);
      const seen = calls.filter((c) => c.eventId === eventId).length;
      calls.push({
        eventId,
        attempt: Number(request.headers['x-delivery-attempt']),
        body: JSON.parse(body || 'null'),
        timeoutMs: Number(request.headers['connect-timeout-ms']),
      });
      const behaviour = behave.get(eventId) ?? { statuses: [200] };
      const status = behaviour.statuses[Math.min(seen, behaviour.statuses.length - 1)] ?? 200;
      setTimeout(() => {
        if (response.destroyed) return;
        const answer =
          status < 300
            ? { score: 1 }
            : { code: status === 400 ? 'invalid_argument' : 'unavailable', message: `answered ${status}` };
        response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
      }, behaviour.delayMs ?? 0);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, base: `http://127.0.0.1:${port}`, calls, behave });
    });
  });
}

/** Writes a cloud assembly with the remote RPC workers of {@link WORKERS}, calling `base`. */
async function writeAssembly(dir: string, base: string): Promise<void> {
  await bundleAsset(join(dir, 'asset.remote'), { entry: 'functions/remote-rpc/index.ts' });
  const resources: Record<string, unknown> = { Deliveries: deliveriesTableResource(TABLE) };
  for (const w of WORKERS) {
    Object.assign(
      resources,
      workerResources(
        w.name.replace(/^./, (c) => c.toUpperCase()),
        {
          rpc: w.rpc,
          queueName: `${STACK}-${w.name}`,
          dlqName: `${STACK}-${w.name}-dlq`,
          visibilitySeconds: 6 * w.timeoutSeconds,
          maxReceiveCount: MAX_RECEIVE_COUNT,
          functionName: `${STACK}-${w.name}`,
          asset: 'asset.remote',
          timeoutSeconds: w.timeoutSeconds,
          environment: {
            ER_REMOTE_URL: `${base}/${w.name}`,
            ER_REMOTE_TIMEOUT_MS: String(remoteCallTimeoutMs(w.timeoutSeconds)),
          },
        },
      ),
    );
  }
  writeStackAssembly(dir, STACK, { Resources: resources });
}

describe('deliveries of a remote RPC, counted per delivery', { timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'er-remote-'));
  let remote: Awaited<ReturnType<typeof startRemote>>;
  /** Runs with `--retry-delay 1`, as in the problem report. */
  let h: Harness;

  before(async () => {
    remote = await startRemote();
    await writeAssembly(dir, remote.base);
    h = await startHarness({ cdkOut: dir, retryDelaySeconds: 1 });
    assert.deepEqual(h.runtime.model.problems, []);
  });
  after(async () => {
    await h?.close();
    remote.server.closeAllConnections();
    await new Promise<void>((resolve) => remote.server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const worker = (name: WorkerName) => WORKERS.find((w) => w.name === name) ?? WORKERS[0];
  const queueUrl = async (harness: Harness, name: string) =>
    (await harness.sqs.send(new GetQueueUrlCommand({ QueueName: `${STACK}-${name}` }))).QueueUrl ?? '';

  /** Sends the message a rule would deliver for `eventId` to the worker's queue; returns its messageId. */
  async function send(
    eventId: string,
    options: {
      harness?: Harness;
      to?: WorkerName;
      amount?: number;
      attributes?: Record<string, string>;
    } = {},
  ): Promise<string> {
    const harness = options.harness ?? h;
    const w = worker(options.to ?? 'score');
    const payload = { ...authorizedPayload(eventId), ...(options.amount ? { amount: options.amount } : {}) };
    const MessageAttributes = Object.fromEntries(
      Object.entries(options.attributes ?? {}).map(([name, value]) => [
        name,
        { DataType: 'String', StringValue: value },
      ]),
    );
    const { MessageId = '' } = await harness.sqs.send(
      new SendMessageCommand({
        QueueUrl: await queueUrl(harness, w.name),
        MessageBody: JSON.stringify(queueMessage(w.rpc, busEvent(EVENT, payload, { eventId }))),
        MessageAttributes,
      }),
    );
    return MessageId;
  }

  async function record(
    eventId: string,
    to: WorkerName = 'score',
    harness = h,
  ): Promise<DeliveryRecord | undefined> {
    const { Item } = await DynamoDBDocumentClient.from(harness.dynamodb).send(
      new GetCommand({ TableName: TABLE, Key: { eventId, rpc: worker(to).rpc }, ConsistentRead: true }),
    );
    return Item as DeliveryRecord | undefined;
  }

  /** Messages in a queue: visible, in flight and delayed. */
  async function depth(harness: Harness, name: string): Promise<number> {
    const { Attributes = {} } = await harness.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: await queueUrl(harness, name), AttributeNames: ['All'] }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  }

  /** Waits until every eventId's delivery ended (COMPLETED or DEAD) and the worker's queue is empty. */
  async function settled(
    eventIds: readonly string[],
    to: WorkerName = 'score',
    timeoutMs = 90_000,
  ): Promise<void> {
    await eventually(
      async () => {
        for (const eventId of eventIds) {
          const status = (await record(eventId, to))?.status;
          if (status !== 'COMPLETED' && status !== 'DEAD') return undefined;
        }
        return (await depth(h, to)) === 0 ? true : undefined;
      },
      timeoutMs,
      `the deliveries of ${eventIds.length} event(s) to end`,
    );
  }

  /** Takes every dead letter out of the worker's DLQ, counted per eventId. */
  async function deadLetters(to: WorkerName = 'score'): Promise<Map<string, number>> {
    const url =
      (await h.sqs.send(new GetQueueUrlCommand({ QueueName: `${STACK}-${to}-dlq` }))).QueueUrl ?? '';
    const count = await depth(h, `${to}-dlq`);
    const messages = count === 0 ? [] : await drain(h.sqs, url, count);
    const out = new Map<string, number>();
    for (const m of messages) {
      const eventId = m.MessageAttributes?.EventId?.StringValue ?? '?';
      out.set(eventId, (out.get(eventId) ?? 0) + 1);
    }
    return out;
  }

  const callsOf = (eventId: string) => remote.calls.filter((c) => c.eventId === eventId);
  const lineOf = (messageId: string) =>
    eventually(
      () => h.deliveries.find((d) => d.messageId === messageId),
      60_000,
      `the delivery line of ${messageId}`,
    );

  it('calls a remote answering 400 once for the same key sent twice, with one dead letter; a redrive runs it again', async () => {
    // Given a remote that refuses the delivery for good
    const eventId = randomUUID();
    remote.behave.set(eventId, { statuses: [400, 200] });

    // When the same delivery arrives twice, the second after the first was dead-lettered
    const first = await send(eventId);
    assert.equal((await lineOf(first)).outcome, 'dead-lettered');
    const second = await send(eventId);
    const duplicate = await lineOf(second);

    // Then the remote was called once and the copy is acknowledged as a duplicate of a dead letter
    assert.equal(callsOf(eventId).length, 1);
    assert.equal(duplicate.outcome, 'duplicate');
    assert.match(formatDelivery(duplicate), /= .*duplicate \(dead-lettered; redrive to run again\)/);
    await settled([eventId]);
    assert.equal(await depth(h, 'score-dlq'), 1, 'one dead letter');

    // When ops redrive the DLQ (StartMessageMoveTask keeps the DeadLetterId attribute)
    await h.sqs.send(
      new StartMessageMoveTaskCommand({ SourceArn: `arn:aws:sqs:us-east-1:000000000000:${STACK}-score-dlq` }),
    );
    await eventually(
      async () => ((await record(eventId))?.status === 'COMPLETED' ? true : undefined),
      60_000,
      'the redriven run',
    );

    // Then it ran once more, and the COMPLETED record no longer shows the old error
    assert.equal(callsOf(eventId).length, 2);
    const done = await record(eventId);
    assert.equal(done?.attempts, 2);
    assert.equal(done?.lastError, undefined);
    await settled([eventId]);
    assert.equal(await depth(h, 'score-dlq'), 0);
  });

  it('calls a remote answering 500 at most maxReceiveCount times for the same key sent twice 3 s apart, with one dead letter', async () => {
    const eventId = randomUUID();
    remote.behave.set(eventId, { statuses: [500] });

    await send(eventId);
    await eventually(() => (callsOf(eventId).length >= 1 ? true : undefined), 30_000, 'the first call');
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the publisher's retry, 3 s later
    await send(eventId);
    await settled([eventId]);

    const calls = callsOf(eventId);
    assert.equal(calls.length, MAX_RECEIVE_COUNT);
    assert.deepEqual(
      calls.map((c) => c.attempt),
      [1, 2, 3, 4, 5],
    );
    assert.equal((await record(eventId))?.status, 'DEAD');
    assert.deepEqual([...(await deadLetters()).entries()], [[eventId, 1]]);
  });

  it('reschedules a copy arriving while the delivery waits out its backoff, without calling', async () => {
    // Given a runtime whose retry delay is a minute, and a delivery that failed once
    const slow = await startHarness({ cdkOut: dir, retryDelaySeconds: 60 });
    try {
      const eventId = randomUUID();
      remote.behave.set(eventId, { statuses: [503, 200] });
      await send(eventId, { harness: slow });
      await eventually(
        async () => ((await record(eventId, 'score', slow))?.status === 'FAILED' ? true : undefined),
        30_000,
        'FAILED',
      );

      // When a copy arrives
      const copy = await send(eventId, { harness: slow });
      const line = await eventually(
        () => slow.deliveries.find((d) => d.messageId === copy),
        30_000,
        'the copy',
      );

      // Then it is rescheduled to the delivery's next attempt, not run early
      assert.equal(line.outcome, 'rescheduled');
      assert.ok((line.retryInSeconds ?? 0) > 30, `rescheduled in ${line.retryInSeconds} s`);
      assert.equal(callsOf(eventId).length, 1);
      assert.equal((await record(eventId, 'score', slow))?.status, 'FAILED');
    } finally {
      await slow.close();
    }
  });

  it('reruns a COMPLETED delivery once for a RerunId, also with an edited payload', async () => {
    const eventId = randomUUID();
    const first = await send(eventId);
    assert.equal((await lineOf(first)).outcome, 'ok');

    const rerun = await send(eventId, { amount: 4200, attributes: { RerunId: 'rerun-1' } });
    assert.equal((await lineOf(rerun)).outcome, 'ok');
    const again = await send(eventId, { amount: 4200, attributes: { RerunId: 'rerun-1' } });
    assert.equal((await lineOf(again)).outcome, 'duplicate');

    const calls = callsOf(eventId);
    assert.equal(calls.length, 2);
    assert.equal((calls[1]?.body as { amount?: number } | undefined)?.amount, 4200);
    const done = await record(eventId);
    assert.deepEqual([done?.status, done?.attempts, done?.rerunId], ['COMPLETED', 2, 'rerun-1']);
  });

  it('dead-letters a copy with another payload as an IdempotencyConflict', async () => {
    const eventId = randomUUID();
    assert.equal((await lineOf(await send(eventId))).outcome, 'ok');

    const line = await lineOf(await send(eventId, { amount: 1 }));

    assert.equal(line.outcome, 'dead-lettered');
    assert.equal(line.errorType, 'IdempotencyConflict');
    assert.equal(callsOf(eventId).length, 1);
    assert.equal((await record(eventId))?.status, 'COMPLETED');
    assert.deepEqual([...(await deadLetters()).entries()], [[eventId, 1]]);
  });

  it('never runs a delivery more than maxReceiveCount times, and dead-letters each failed one exactly once, amid duplicates', async () => {
    // Given deliveries that fail for good, keep failing, recover, or succeed; each sent 2-3 times, spread out
    const kinds = [
      { statuses: [500] },
      { statuses: [400] },
      { statuses: [500, 503, 200] },
      { statuses: [200] },
    ];
    const eventIds = Array.from({ length: 12 }, () => randomUUID());
    eventIds.forEach((eventId, i) => {
      remote.behave.set(eventId, kinds[i % kinds.length] ?? { statuses: [200] });
    });
    const sends: Promise<string>[] = [];
    eventIds.forEach((eventId, i) => {
      for (let copy = 0; copy < 2 + (i % 2); copy++)
        sends.push(
          new Promise((resolve) => setTimeout(resolve, copy * 700 + (i % 3) * 300)).then(() => send(eventId)),
        );
    });
    await Promise.all(sends);

    // When everything has settled
    await settled(eventIds, 'score', 180_000);

    // Then
    const letters = await deadLetters();
    for (const [i, eventId] of eventIds.entries()) {
      const calls = callsOf(eventId).length;
      const done = await record(eventId);
      // Invariants: at most maxReceiveCount runs, one dead letter per dead delivery, none otherwise
      assert.ok(calls >= 1 && calls <= MAX_RECEIVE_COUNT, `delivery ${i}: ${calls} calls`);
      assert.ok((done?.attempts ?? 0) <= MAX_RECEIVE_COUNT, `delivery ${i}: ${done?.attempts} runs`);
      assert.equal(
        letters.get(eventId) ?? 0,
        done?.status === 'DEAD' ? 1 : 0,
        `dead letters of delivery ${i}`,
      );
      if (i % 4 <= 1) assert.equal(done?.status, 'DEAD', `delivery ${i} never gets a 2xx`);
      // How each kind ends, unless a run was cut short (a timeout on an overloaded machine spends a
      // run without a call, or a call without its answer)
      const cut = h.deliveries.some(
        (d) =>
          d.eventId === eventId &&
          (d.outcome === 'timeout' || d.outcome === 'crash' || /cut from|not called/.test(d.error ?? '')),
      );
      if (cut) continue;
      const expected = [
        [MAX_RECEIVE_COUNT, 'DEAD'],
        [1, 'DEAD'],
        [3, 'COMPLETED'],
        [1, 'COMPLETED'],
      ][i % 4];
      assert.deepEqual([calls, done?.status], expected, `delivery ${i}`);
    }
    assert.equal(
      letters.size,
      eventIds.filter((_, i) => i % 4 <= 1).length +
        (await Promise.all(eventIds.filter((_, i) => i % 4 > 1).map((id) => record(id)))).filter(
          (r) => r?.status === 'DEAD',
        ).length,
    );
  });

  for (const name of ['t1', 't2', 't5'] as const) {
    const w = worker(name);
    it(`completes a ${w.timeoutSeconds} s RPC against a remote answering in 80% of its call timeout`, async () => {
      const configured = remoteCallTimeoutMs(w.timeoutSeconds);
      // Given a warm worker (its process started and its clients connected, as after a first delivery)
      const warmUp = randomUUID();
      await send(warmUp, { to: name });
      await settled([warmUp], name, 180_000);
      const eventId = randomUUID();
      remote.behave.set(eventId, { statuses: [200], delayMs: Math.round(configured * 0.8) });

      await send(eventId, { to: name });
      await settled([eventId], name);

      // Then it completes. (On a machine so loaded that the claim takes longer than the 200 ms the
      // budget allows, the first call may be cut and a retry completes: allowed, and said in the error.)
      assert.equal((await record(eventId, name))?.status, 'COMPLETED');
      const calls = callsOf(eventId);
      assert.ok(calls.length >= 1 && calls.length <= MAX_RECEIVE_COUNT, `${calls.length} calls`);
      assert.ok(calls.every((c) => c.timeoutMs <= configured && c.timeoutMs > 0));
      for (const line of h.deliveries.filter((d) => d.eventId === eventId && d.outcome === 'failed'))
        assert.match(line.error ?? '', /cut from the configured/);
    });
  }
});
