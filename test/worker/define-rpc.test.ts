/**
 * defineRpc: typed against generated/events.ts, one or several events per RPC, and one handler
 * module per RPC of event-router.yaml.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { kebabCase } from '../../common/case.ts';
import { defineRpc } from '../../generated/rpc.ts';
import { authorizedPayload, type Harness, startHarness } from './support/harness.ts';
import { busEvent, lambdaContext, queueMessage, sqsEvent, sqsRecord } from './support/messages.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Compile-time checks: `npm run typecheck` fails if any of these lines compiles (each is an error
 * the type of defineRpc must catch). The function is never called.
 */
export function typeChecks(): void {
  // @ts-expect-error: no such event in event-router.yaml
  defineRpc('card.transaction.authorised', async () => undefined);
  // @ts-expect-error: the payload of card.transaction.authorized has no `total`
  defineRpc('card.transaction.authorized', async (payload) => payload.total);
  defineRpc({
    'card.transaction.settled': async (payload) => payload.settledAmount,
    // @ts-expect-error: unknown event name in the routes object
    'card.transaction.voided': async () => undefined,
  });
  defineRpc('receipt.uploaded', async (_payload, ctx) => {
    // @ts-expect-error: the follow-up's payload must match ledger.entry.recorded
    await ctx.publish('ledger.entry.recorded', { entryId: 'e' });
    // @ts-expect-error: ctx.eventName is the literal event name
    const other: 'card.transaction.settled' = ctx.eventName;
    return other;
  });
}

describe('defineRpc', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('LedgerService/Ledger');
  });
  after(async () => {
    await h.close();
  });

  it('routes each event of a multi-event RPC to its own function', async () => {
    const seen: string[] = [];
    const handler = defineRpc({
      'card.transaction.authorized': async (payload, ctx) => {
        seen.push(`${ctx.eventName}:${payload.amount}`);
      },
      'card.transaction.settled': async (payload, ctx) => {
        seen.push(`${ctx.eventName}:${payload.settledAmount}`);
      },
    });
    const worker = h.wire(handler);
    const rpc = h.config.rpc;

    const response = await worker(
      sqsEvent([
        sqsRecord(queueMessage(rpc, busEvent('card.transaction.authorized', authorizedPayload('t', 500)))),
        sqsRecord(
          queueMessage(
            rpc,
            busEvent('card.transaction.settled', { transactionId: 't', settledAmount: 480, currency: 'EUR' }),
          ),
        ),
      ]),
      lambdaContext(),
    );

    assert.deepEqual(response, { batchItemFailures: [] });
    assert.deepEqual(seen.sort(), ['card.transaction.authorized:500', 'card.transaction.settled:480']);
    assert.deepEqual(Object.keys(handler.routes).sort(), [
      'card.transaction.authorized',
      'card.transaction.settled',
    ]);
  });

  it('gives ctx the delivery facts', async () => {
    let captured: Record<string, unknown> = {};
    const handler = defineRpc('card.transaction.authorized', async (_payload, ctx) => {
      captured = {
        eventId: ctx.eventId,
        eventName: ctx.eventName,
        occurredAt: ctx.occurredAt,
        attempt: ctx.attempt,
        correlationId: ctx.correlationId,
        causationId: ctx.causationId,
        rpc: ctx.rpc,
        remaining: ctx.remainingTimeMs(),
      };
    });
    const eventId = randomUUID();
    await h.wire(handler)(
      sqsEvent([
        sqsRecord(
          queueMessage(
            h.config.rpc,
            busEvent('card.transaction.authorized', authorizedPayload(), {
              eventId,
              correlationId: 'flow-1',
              causationId: 'parent-1',
              occurredAt: '2026-11-01T08:00:00.000Z',
            }),
          ),
        ),
      ]),
      lambdaContext(12_345),
    );

    assert.deepEqual(captured, {
      eventId,
      eventName: 'card.transaction.authorized',
      occurredAt: '2026-11-01T08:00:00.000Z',
      attempt: 1,
      correlationId: 'flow-1',
      causationId: 'parent-1',
      rpc: h.config.rpc,
      remaining: 12_345,
    });
  });

  it('checks its options when the module loads, listing every problem', () => {
    const fn = async () => undefined;
    assert.throws(
      () => defineRpc('receipt.uploaded', fn, { concurrency: 0, backoff: { baseSecond: 1 } as never }),
      /Invalid worker options: "backoff\.baseSecond" is not an option .*; concurrency is 0; use a whole number from 1 to 1000\./,
    );
    assert.throws(
      () => defineRpc({ 'receipt.uploaded': fn }, { maxResultBytes: 1.5 }),
      /maxResultBytes is 1\.5/,
    );
    assert.equal(
      typeof defineRpc('receipt.uploaded', fn, { concurrency: 2, backoff: { maxSeconds: 60 } }),
      'function',
    );
  });

  it('rejects a definition without events', () => {
    assert.throws(() => defineRpc({}), /defineRpc needs an event name and a function/);
  });

  it('fails the invocation, naming the variables, when the worker has no configuration', async () => {
    const handler = defineRpc('receipt.uploaded', async () => undefined);
    const unconfigured = handler.withDependencies({ config: {} });
    await assert.rejects(
      unconfigured(sqsEvent([sqsRecord('{}')]), lambdaContext()),
      /ER_RPC, ER_DELIVERIES_TABLE, ER_DLQ_URL not set/,
    );
  });
});

describe('example handlers', () => {
  const spec = parse(readFileSync(join(root, 'event-router.yaml'), 'utf8')) as {
    services: Record<string, { remote?: unknown; rpcs: Record<string, unknown> }>;
  };
  const rpcs = Object.entries(spec.services)
    .filter(([, service]) => !service.remote)
    .flatMap(([service, { rpcs }]) => Object.keys(rpcs).map((method) => ({ service, method })));

  it('covers every RPC of event-router.yaml', () => {
    assert.ok(rpcs.length >= 10);
  });

  for (const { service, method } of rpcs) {
    const file = `functions/rpcs/${kebabCase(service)}/${kebabCase(method)}.ts`;
    it(`${service}/${method} has ${file} exporting a worker handler`, async () => {
      assert.ok(existsSync(join(root, file)), `${file} is missing`);
      const module = (await import(join(root, file))) as { handler?: unknown };
      assert.equal(typeof module.handler, 'function');
      assert.equal(typeof (module.handler as { withDependencies?: unknown }).withDependencies, 'function');
    });
  }
});
