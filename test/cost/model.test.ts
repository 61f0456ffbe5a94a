/** The cost model on a small plan whose numbers can be worked out by hand. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Assumptions,
  costOf,
  DEFAULT_ASSUMPTIONS,
  entryEvents,
  LIST_PRICES,
  parseOverrides,
  SECONDS_PER_MONTH,
  withOverrides,
} from '../../lib/cost/index.ts';
import { planRouter } from '../../lib/plan/index.ts';
import { makeSpec } from '../support/specs.ts';

/**
 * order.placed (from outside) -> Shipping/Ship (publishes order.shipped) and, through a filter,
 * Billing/Bill; order.shipped -> Notification/Notify, which batches (10 messages, 2 s window, 2 pollers).
 */
const plan = planRouter(
  makeSpec({
    rpcs: [
      { id: 'Shipping/Ship', publishes: ['order.shipped'] },
      { id: 'Billing/Bill' },
      {
        id: 'Notification/Notify',
        settings: { batchSize: 10, batchingWindowSeconds: 2, maxConcurrency: 2, memoryMb: 512 },
      },
    ],
    subscriptions: [
      { event: 'order.placed', rpc: 'Shipping/Ship' },
      {
        event: 'order.placed',
        rpc: 'Billing/Bill',
        filter: { payload: { amount: [{ numeric: ['>', 100] }] } },
      },
      { event: 'order.shipped', rpc: 'Notification/Notify' },
    ],
  }),
);

const assumptions: Assumptions = {
  ...DEFAULT_ASSUMPTIONS,
  publishVia: 'direct',
  filterMatch: { 'order.placed -> Billing/Bill': 0.25 },
};

const close = (actual: number, expected: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} != ${expected}`,
  );

describe('cost model', () => {
  it('takes the events no RPC publishes as the load', () => {
    assert.deepEqual(entryEvents(plan), ['order.placed']);
  });

  it('counts the requests one event causes through filters, batches and follow-ups', () => {
    // Given 4 order.placed per second: Notify receives 4/s, 4 x 2 s / 2 pollers = 4 messages a batch
    const report = costOf(plan, { rate: 4, prices: LIST_PRICES, assumptions });
    const [event] = report.events;
    assert.ok(event);
    assert.deepEqual(event.deliveries, {
      'Shipping/Ship': 1,
      'Billing/Bill': 0.25,
      'Notification/Notify': 1,
    });
    const notify = report.rpcs.find((r) => r.rpc === 'Notification/Notify');
    assert.equal(notify?.batchFill, 4);
    const r = event.requests;
    // Then: the publish and Ship's follow-up are two PutEvents; 2.25 deliveries, of which Notify's
    // share one receive, delete and invocation among four
    assert.equal(r.putEventsCalls, 2);
    assert.equal(r.busEvents, 2);
    assert.equal(r.apiRequests, 0);
    assert.equal(r.ruleMatches, 2.25);
    assert.equal(r.sqsSends, 2.25);
    assert.equal(r.sqsReceives, 1.5);
    assert.equal(r.sqsDeletes, 1.5);
    assert.equal(r.invocations, 1.5);
    assert.equal(r.dynamoWrites, 4.5);
    assert.equal(r.dynamoWriteUnits, 4.5);
    // 256 MB x 40 ms for Ship (1) and Bill (0.25), 512 MB x 40 ms for a quarter of Notify's batch
    close(r.gbSeconds, 0.25 * 0.04 * 1.25 + (0.5 * 0.04) / 4, 'GB-s');
    const logBytes = assumptions.workerLogBytesPerDelivery * 2.25 + 260 * 1.5;
    close(r.logBytes, logBytes, 'log bytes');

    const perMillion =
      2 * 1.0 + // EventBridge
      (2.25 + 1.5 + 1.5) * 0.4 + // SQS
      1.5 * 0.2 + // Lambda requests
      r.gbSeconds * 1e6 * 0.0000133334 + // Lambda duration
      4.5 * 0.625 + // DynamoDB
      (logBytes * 1e6 * 0.5) / 1024 ** 3; // logs
    close(event.usdPerMillion, perMillion, 'USD per million');
    // And per month: 4 events/s for 30 days, plus idle polling (5 pollers x 3 receives a minute) and the alarms (4 metrics per RPC, 1 per rule)
    const idle = 3 * ((5 * 3 * SECONDS_PER_MONTH) / 60) * (0.4 / 1e6);
    close(report.fixedPerMonth.idlePolling, idle, 'idle polling');
    close(
      report.usdPerMonth,
      (perMillion / 1e6) * 4 * SECONDS_PER_MONTH + idle + (3 * 4 + plan.rules.length) * 0.1,
      'USD per month',
    );
  });

  it('adds the API request and the publish function when events come through the publish API', () => {
    const direct = costOf(plan, { rate: 4, prices: LIST_PRICES, assumptions }).events[0];
    const api = costOf(plan, {
      rate: 4,
      prices: LIST_PRICES,
      assumptions: { ...assumptions, publishVia: 'api' },
    }).events[0];
    assert.ok(direct && api);
    assert.equal(api.requests.apiRequests, 1);
    assert.equal(api.requests.invocations, direct.requests.invocations + 1);
    close(api.perMillion.apiGateway, 3.5, 'API Gateway per million');
  });

  it('fills no batch without a batching window while the pollers keep up, and never past the batch size', () => {
    const slow = costOf(plan, { rate: 0.1, prices: LIST_PRICES, assumptions });
    assert.equal(slow.rpcs.find((r) => r.rpc === 'Notification/Notify')?.batchFill, 1);
    assert.equal(slow.rpcs.find((r) => r.rpc === 'Shipping/Ship')?.batchFill, 1);
    // 100 deliveries/s x 40 ms = 4 invocations running at once: Ship's 5 pollers keep up
    const kept = costOf(plan, { rate: 100, prices: LIST_PRICES, assumptions });
    assert.equal(kept.rpcs.find((r) => r.rpc === 'Shipping/Ship')?.batchFill, 1);
    const fast = costOf(plan, { rate: 1000, prices: LIST_PRICES, assumptions });
    assert.equal(fast.rpcs.find((r) => r.rpc === 'Notification/Notify')?.batchFill, 10);
    // 1000/s x 40 ms over 5 busy pollers: what arrives during an invocation, 8 a batch
    assert.equal(fast.rpcs.find((r) => r.rpc === 'Shipping/Ship')?.batchFill, 8);
  });

  it('prices what a file overrides', () => {
    const { prices } = withOverrides(parseOverrides({ prices: { dynamoWriteUnitsPerMillion: 1.25 } }));
    const base = costOf(plan, { rate: 4, prices: LIST_PRICES, assumptions }).events[0];
    const dearer = costOf(plan, { rate: 4, prices, assumptions }).events[0];
    assert.ok(base && dearer);
    close(dearer.perMillion.dynamoDb, 2 * base.perMillion.dynamoDb, 'DynamoDB per million');
  });

  it('names every bad value of an overrides file at once', () => {
    assert.throws(
      () =>
        parseOverrides({
          prices: { sqsRequestsPerMillion: -1, lambdaPerGb: 1 },
          assumptions: { filterMatch: { 'a -> b': 2 }, publishVia: 'carrier pigeon' },
          extra: true,
        }),
      (error: Error) => {
        for (const part of [
          '"extra" is not known',
          'prices.sqsRequestsPerMillion is -1; use a number >= 0',
          'prices.lambdaPerGb is not known',
          'assumptions.filterMatch["a -> b"] is 2; use a number from 0 to 1',
          'assumptions.publishVia is "carrier pigeon"; use "api" or "direct"',
        ])
          assert.ok(error.message.includes(part), `missing: ${part}\n${error.message}`);
        return true;
      },
    );
  });

  it('refuses an event no rule matches, naming the ones that exist', () => {
    assert.throws(
      () => costOf(plan, { rate: 1, events: ['order.lost'], prices: LIST_PRICES, assumptions }),
      /No rule matches "order\.lost"; events with subscribers: order\.placed, order\.shipped/,
    );
  });

  it('cuts a cycle of follow-up events and says so', () => {
    const cyclic = planRouter(
      makeSpec({
        rpcs: [
          { id: 'Ping/Ping', publishes: ['pong'] },
          { id: 'Pong/Pong', publishes: ['ping'] },
        ],
        subscriptions: [
          { event: 'ping', rpc: 'Ping/Ping' },
          { event: 'pong', rpc: 'Pong/Pong' },
        ],
      }),
    );
    const report = costOf(cyclic, { rate: 1, events: ['ping'], prices: LIST_PRICES, assumptions });
    assert.match(report.warnings.join('\n'), /cycle through/);
    assert.ok((report.events[0]?.requests.ruleMatches ?? 0) >= 10);
  });
});
