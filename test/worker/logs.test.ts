/**
 * Logs: structured JSON with rpc, eventId, correlationId and attempt on every line about a delivery,
 * and no payload at info level.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { defineRpc } from '../../generated/rpc.ts';
import { authorizedPayload, type Harness, startHarness } from './support/harness.ts';
import { busEvent, lambdaContext, queueMessage, sqsEvent, sqsRecord } from './support/messages.ts';

const RPC = 'NotificationService/NotifyCardholder';
const EVENT = 'card.transaction.authorized';
const SECRET = 'Merchant-Name-That-Must-Not-Be-Logged';

const handler = defineRpc(EVENT, async (payload, ctx) => {
  ctx.logger.info('Handler says hello');
  if (payload.amount === 13) throw new Error('unlucky amount');
  return 'ok';
});

/** Runs `action` and returns every line written to stdout and stderr meanwhile, parsed as JSON. */
async function captureOutput(action: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    const original = originals[i] as typeof stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      // Only log lines are taken; anything else (the test runner's own reporting) passes through.
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{"level":')) return original(chunk, ...rest);
      lines.push(...text.split('\n').filter(Boolean));
      return true;
    }) as typeof stream.write;
  });
  try {
    await action();
  } finally {
    streams.forEach((stream, i) => {
      stream.write = originals[i] as typeof stream.write;
    });
  }
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('worker logs', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(RPC);
  });
  after(async () => {
    await h.close();
  });

  it('carries rpc, eventId, correlationId and attempt on every line and never the payload at info', async () => {
    const logger = new Logger({ serviceName: 'notify-cardholder', logLevel: 'INFO' });
    const worker = h.wire(handler).withDependencies({ logger });
    const ok = randomUUID();
    const failing = randomUUID();
    const payload = (amount: number) => ({
      ...authorizedPayload(),
      amount,
      merchant: { name: SECRET, category: '5411' },
    });
    const records = [
      sqsRecord(queueMessage(RPC, busEvent(EVENT, payload(100), { eventId: ok }))),
      sqsRecord(queueMessage(RPC, busEvent(EVENT, payload(100), { eventId: ok }))),
      sqsRecord(queueMessage(RPC, busEvent(EVENT, payload(13), { eventId: failing }))),
      sqsRecord(queueMessage(RPC, busEvent(EVENT, { ...payload(1), amount: 'x' }))),
      sqsRecord('not json'),
    ];

    const lines = await captureOutput(() => worker(sqsEvent(records), lambdaContext()));

    assert.ok(lines.length >= 6, `expected a line per outcome, got ${lines.length}`);
    for (const line of lines) {
      assert.equal(line.rpc, RPC, JSON.stringify(line));
      assert.equal(typeof line.eventId, 'string', JSON.stringify(line));
      assert.equal(typeof line.correlationId, 'string', JSON.stringify(line));
      assert.equal(typeof line.attempt, 'number', JSON.stringify(line));
      assert.equal(line.service, 'notify-cardholder');
      assert.ok(line.function_request_id, 'the Lambda context is on every line');
      assert.doesNotMatch(JSON.stringify(line), new RegExp(SECRET));
    }
    const handlerLine = lines.find((line) => line.message === 'Handler says hello' && line.eventId === ok);
    assert.equal(handlerLine?.attempt, 1);
    assert.equal(handlerLine?.correlationId, `corr-${ok}`);
    assert.ok(lines.some((line) => line.message === 'Delivery completed'));
    assert.ok(lines.some((line) => line.message === 'Handler failed; the delivery will be retried'));
    assert.equal(lines.filter((line) => line.message === 'Delivery sent to the DLQ').length, 2);
  });

  it('logs the payload only at debug level', async () => {
    const logger = new Logger({ serviceName: 'notify-cardholder', logLevel: 'DEBUG' });
    const worker = h.wire(handler).withDependencies({ logger });
    const event = busEvent(EVENT, { ...authorizedPayload(), merchant: { name: SECRET, category: '1' } });

    const lines = await captureOutput(() =>
      worker(sqsEvent([sqsRecord(queueMessage(RPC, event))]), lambdaContext()),
    );

    const withPayload = lines.filter((line) => JSON.stringify(line).includes(SECRET));
    assert.equal(withPayload.length, 1);
    assert.equal(withPayload[0]?.level, 'DEBUG');
  });
});
