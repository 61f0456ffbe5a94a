/**
 * Checks the cost model (lib/cost) against what the local runtime counts for the example app: every
 * event published from outside is put at a steady rate, the runtime runs everything that follows
 * (rules, queues, workers, follow-up events) and counts the requests (lib/local/runtime/request-counter.ts);
 * the model is given the same rate, events and filter share, and the two are compared per kind of
 * request. Goal: modelled within 10% of counted. The example's events are then priced per million.
 *
 * `npm run bench -- cost`, or alone: `node --import tsx bench/cost.ts`.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { loadRouterSpec } from '../lib/codegen/spec.ts';
import {
  costOf,
  DEFAULT_ASSUMPTIONS,
  entryEvents,
  LIST_PRICES,
  type Requests,
  subscriptionKey,
} from '../lib/cost/index.ts';
import { RequestCounter, type RequestCounts } from '../lib/local/runtime/request-counter.ts';
import { LocalRuntime } from '../lib/local/runtime/runtime.ts';
import { planRouter } from '../lib/plan/index.ts';
import { exampleTransaction } from '../test/support/example-payloads.ts';
import { assembly, ROOT } from './e2e.ts';

const BUS = 'cardflow-dev-bus';
const CLIENT = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;
/** Events per second of each external event, and for how long. */
const PER_EVENT_RATE = 2;
const SECONDS = 30;
/** Every other authorized transaction is large enough for ReceiptService/RequestReceipt's filter. */
const RECEIPT_FILTER = subscriptionKey('card.transaction.authorized', 'ReceiptService/RequestReceipt');

/** A valid payload of each external event of the example app; `i` varies what filters look at. */
function payloadOf(event: string, i: number): unknown {
  const id = randomUUID();
  switch (event) {
    case 'card.transaction.authorized':
      return exampleTransaction(i % 2 === 0 ? 12_000 : 1_250);
    case 'card.transaction.settled':
      return { transactionId: `t-${id}`, settledAmount: 1250, currency: 'EUR' };
    case 'receipt.uploaded':
      return { receiptId: `r-${id}`, transactionId: `t-${id}`, objectKey: `receipts/${id}.jpg` };
    case 'expense.report.submitted':
      return { reportId: `rep-${id}`, employeeId: 'e-1', approverId: 'e-2', total: 4200, currency: 'EUR' };
    case 'expense.report.approved':
      return { reportId: `rep-${id}`, employeeId: 'e-1', total: 4200, currency: 'EUR', approvedBy: 'e-2' };
    default:
      throw new Error(`The cost bench has no payload for ${event}; add one.`);
  }
}

function detail(payload: unknown): string {
  const eventId = randomUUID();
  return JSON.stringify({
    metadata: {
      eventId,
      occurredAt: new Date().toISOString(),
      correlationId: eventId,
      publisher: 'bench',
      schemaVersion: 1,
    },
    payload,
  });
}

/** Counts of `after` minus `before`. */
function since(before: RequestCounts, after: RequestCounts): RequestCounts {
  const minus = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
  return {
    requests: minus(after.requests, before.requests),
    ruleDeliveries: after.ruleDeliveries - before.ruleDeliveries,
    invocations: minus(after.invocations, before.invocations),
    logBytes: minus(after.logBytes, before.logBytes),
  };
}

export async function run(): Promise<void> {
  const loaded = loadRouterSpec(join(ROOT, 'event-router.yaml'));
  if (!loaded.spec) throw new Error(loaded.errors);
  const plan = planRouter(loaded.spec);
  const events = entryEvents(plan);
  const app = await assembly();
  const counter = new RequestCounter();
  let handled = 0;
  const outcomes = new Map<string, number>();
  const runtime = await LocalRuntime.start({
    cdkOut: app.dir,
    port: 0,
    inMemory: true,
    requestCounter: counter,
    events: {
      ...counter.events,
      delivery: (d) => {
        if (d.outcome === 'ok') handled++;
        outcomes.set(d.outcome, (outcomes.get(d.outcome) ?? 0) + 1);
      },
    },
  });
  const client = new EventBridgeClient({ ...CLIENT, endpoint: runtime.url });
  const put = async (event: string, i: number) => {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: BUS,
            Source: 'event-router.bench',
            DetailType: event,
            Detail: detail(payloadOf(event, i)),
          },
        ],
      }),
    );
    if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
  };
  const settle = async (target: number) => {
    const deadline = performance.now() + 180_000;
    while (handled < target && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Let the last batching windows close and the last log lines arrive.
    await new Promise((r) => setTimeout(r, 1000));
  };
  try {
    const assumptions = {
      ...DEFAULT_ASSUMPTIONS,
      publishVia: 'direct' as const,
      filterMatch: { [RECEIPT_FILTER]: 0.5 },
    };
    const rate = PER_EVENT_RATE * events.length;
    const model = costOf(plan, { rate, events, prices: LIST_PRICES, assumptions });
    const perEvent = PER_EVENT_RATE * SECONDS;
    const expectedDeliveries = model.events.reduce(
      (sum, e) => sum + perEvent * Object.values(e.deliveries).reduce((a, b) => a + b, 0),
      0,
    );

    // Warm up: one of each event, so every function process has started before counting
    const warm = costOf(plan, { rate, events, prices: LIST_PRICES, assumptions: DEFAULT_ASSUMPTIONS });
    for (const event of events) await put(event, 0);
    await settle(
      warm.events.reduce((sum, e) => sum + Object.values(e.deliveries).reduce((a, b) => a + b, 0), 0),
    );
    const warmHandled = handled;
    outcomes.clear();
    const before = counter.snapshot();

    // Act: every external event at PER_EVENT_RATE a second, one PutEvents each, for SECONDS
    const started = performance.now();
    const total = perEvent * events.length;
    const puts: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      puts.push(put(events[i % events.length] as string, Math.floor(i / events.length)));
    }
    await Promise.all(puts);
    await settle(warmHandled + expectedDeliveries);
    handled -= warmHandled;
    const counted = since(before, counter.snapshot());

    // Assess: modelled requests for `perEvent` events of each kind against the counted ones
    const modelled = (pick: (r: Requests) => number) =>
      model.events.reduce((sum, e) => sum + perEvent * pick(e.requests), 0);
    const workerNames = runtime.model.functions
      .filter((f) => f.environment.ER_RPC !== undefined)
      .map((f) => f.name);
    const invocations = workerNames.reduce((sum, name) => sum + (counted.invocations[name] ?? 0), 0);
    const workerLogBytes = workerNames.reduce((sum, name) => sum + (counted.logBytes[name] ?? 0), 0);
    const requests = (op: string) => counted.requests[op] ?? 0;
    const dynamoWrites = ['UpdateItem', 'PutItem', 'DeleteItem'].reduce(
      (sum, op) => sum + requests(`DynamoDB_20120810.${op}`),
      0,
    );
    const dynamoReads = ['GetItem', 'Query'].reduce(
      (sum, op) => sum + requests(`DynamoDB_20120810.${op}`),
      0,
    );
    // The last row depends on how full batches are, which depends on how fast the workers answer
    // (a busy machine fills them); the others do not.
    const rows: [string, number, number, boolean][] = [
      [
        'PutEvents (entries, one per call)',
        modelled((r) => r.putEventsCalls),
        requests('AWSEvents.PutEvents'),
        true,
      ],
      ['rule matches -> SQS SendMessage', modelled((r) => r.sqsSends), counted.ruleDeliveries, true],
      ['DynamoDB writes', modelled((r) => r.dynamoWrites), dynamoWrites, true],
      ['worker invocations (= receives, deletes)', modelled((r) => r.invocations), invocations, false],
    ];
    console.log(
      `example app: ${events.length} external events at ${PER_EVENT_RATE}/s each for ${SECONDS} s (${total} events), publishing with PutEvents; ${handled} deliveries handled of ${expectedDeliveries} expected (${[
        ...outcomes,
      ]
        .map(([outcome, n]) => `${outcome} ${n}`)
        .join(', ')})`,
    );
    const width = Math.max(...rows.map(([name]) => name.length));
    console.log(`  ${'requests'.padEnd(width)}  modelled   counted  model/counted`);
    let worst = 0;
    let worstAll = 0;
    for (const [name, m, c, steady] of rows) {
      const ratio = m / c;
      worstAll = Math.max(worstAll, Math.abs(ratio - 1));
      if (steady) worst = Math.max(worst, Math.abs(ratio - 1));
      console.log(
        `  ${name.padEnd(width)}  ${m.toFixed(0).padStart(8)}  ${String(c).padStart(8)}  ${ratio.toFixed(3).padStart(13)}`,
      );
    }
    const modelledDeliveries = modelled((r) => r.ruleMatches);
    console.log(
      `  worst difference ${(worst * 100).toFixed(1)}% without invocations, ${(worstAll * 100).toFixed(1)}% with (goal within 10%: ${worstAll <= 0.1 ? 'met' : worst <= 0.1 ? 'met without invocations' : 'MISSED'})`,
    );
    console.log(
      `  messages per worker invocation: modelled ${(modelledDeliveries / modelled((r) => r.invocations)).toFixed(2)}, counted ${(counted.ruleDeliveries / Math.max(1, invocations)).toFixed(2)} (fuller batches when workers answer slowly)`,
    );
    console.log(
      `  worker log bytes per delivery: counted ${(workerLogBytes / Math.max(1, counted.ruleDeliveries)).toFixed(0)} (assumed ${assumptions.workerLogBytesPerDelivery}); DynamoDB reads ${dynamoReads} (modelled 0)`,
    );
    // Prices per million of each external event, as `event-router cost` gives them (publish API included).
    const priced = costOf(plan, {
      rate,
      events,
      prices: LIST_PRICES,
      assumptions: { ...assumptions, publishVia: 'api' },
    });
    console.log(
      `  cost per million events (${LIST_PRICES.region} list prices of ${LIST_PRICES.asOf}, through the publish API, at ${rate}/s):`,
    );
    for (const e of priced.events) console.log(`    ${e.event.padEnd(28)} $${e.usdPerMillion.toFixed(2)}`);
  } finally {
    client.destroy();
    await runtime.close();
    app.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
