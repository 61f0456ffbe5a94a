/**
 * 1,000 messages, 20% of them duplicates (some in the same batch, so handled concurrently, the rest
 * later, after completion), through several workers sharing one deliveries table. Every side effect
 * must happen exactly once. A small in-test queue plays SQS: records reported in
 * batchItemFailures are delivered again with a higher receive count.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { SQSRecord } from 'aws-lambda';
import { defineRpc } from '../../generated/rpc.ts';
import { authorizedPayload, type Harness, startHarness } from './support/harness.ts';
import { busEvent, lambdaContext, queueMessage, sqsEvent, sqsRecord } from './support/messages.ts';

const RPC = 'LedgerService/RecordTransaction';
const EVENT = 'card.transaction.authorized';
const UNIQUE = 800;
const DUPLICATES = 200;
const BATCH = 10;
const WORKERS = 4;

/** Deterministic pseudo-random numbers (mulberry32), so the test is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const effects = new Map<string, number>();
const handler = defineRpc(EVENT, async (payload) => {
  // Yield a few turns so concurrent copies overlap with this run.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  effects.set(payload.transactionId, (effects.get(payload.transactionId) ?? 0) + 1);
  return { entryId: `le-${payload.transactionId}` };
});

describe('1,000 deliveries with 20% duplicates', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(RPC);
  });
  after(async () => {
    await h.close();
  });

  it('runs every delivery exactly once', async () => {
    // Given 800 events and 200 extra copies: 100 placed right after their original (same batch,
    // handled concurrently), 100 appended at the end (after the original completed)
    const next = random(42);
    const eventIds = Array.from({ length: UNIQUE }, () => randomUUID());
    const body = (eventId: string) =>
      queueMessage(RPC, busEvent(EVENT, authorizedPayload(eventId), { eventId }));
    const order: string[] = [...eventIds];
    for (let i = 0; i < DUPLICATES / 2; i++) {
      const original = Math.floor(next() * UNIQUE);
      const at = order.indexOf(eventIds[original] as string);
      order.splice(at + 1, 0, eventIds[original] as string);
    }
    for (let i = 0; i < DUPLICATES / 2; i++) order.push(eventIds[Math.floor(next() * UNIQUE)] as string);
    assert.equal(order.length, UNIQUE + DUPLICATES);

    let pending: SQSRecord[] = order.map((eventId) => sqsRecord(body(eventId)));
    const receives = new Map<string, number>();
    let returned = 0;
    let rounds = 0;

    // When workers poll batches of 10 until the queue is empty
    while (pending.length > 0) {
      rounds++;
      assert.ok(rounds <= 20, 'the queue drains within 20 rounds');
      const batches: SQSRecord[][] = [];
      for (let i = 0; i < pending.length; i += BATCH) batches.push(pending.slice(i, i + BATCH));
      const again: SQSRecord[] = [];
      for (let i = 0; i < batches.length; i += WORKERS) {
        const wave = batches.slice(i, i + WORKERS);
        const responses = await Promise.all(
          wave.map((records) => h.wire(handler)(sqsEvent(records), lambdaContext(30_000))),
        );
        responses.forEach((response, w) => {
          for (const failure of response.batchItemFailures) {
            const record = wave[w]?.find((r) => r.messageId === failure.itemIdentifier);
            assert.ok(record, 'a batch item failure names a record of its batch');
            const count = (receives.get(record.messageId) ?? 1) + 1;
            receives.set(record.messageId, count);
            again.push(sqsRecord(record.body, { messageId: record.messageId, receiveCount: count }));
          }
        });
      }
      returned += again.length;
      // A copy that found a live claim comes back after that claim would have expired
      h.clock.advance(31_000);
      pending = again;
    }

    // Then every event's side effect happened exactly once
    assert.equal(effects.size, UNIQUE);
    const notOnce = [...effects].filter(([, count]) => count !== 1);
    assert.deepEqual(notOnce, []);
    for (const eventId of eventIds) assert.ok(effects.has(eventId));
    // Concurrent copies were really seen (they came back to the queue) and nothing was dead-lettered
    assert.ok(returned > 0, 'some duplicates were handled concurrently and returned to the queue');
    assert.equal(h.queue.sent.length, 0);
    const sample = await Promise.all(eventIds.slice(0, 50).map((eventId) => h.record(eventId)));
    assert.ok(sample.every((record) => record?.status === 'COMPLETED' && record.attempts === 1));
  });
});
