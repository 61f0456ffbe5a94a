/**
 * The cost report as text (tables for a terminal) or JSON (for scripts).
 */
import { type CostReport, type Requests, SECONDS_PER_MONTH } from './model.ts';

const usd = (value: number) =>
  value >= 100
    ? `$${value.toLocaleString('en-US', { maximumFractionDigits: 0 })}`
    : `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: value < 1 ? 4 : 2 })}`;

/** A request count: whole numbers as they are, fractions with up to three decimals. */
const count = (value: number) => (Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3))));

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const sqs = (r: Requests) => `${count(r.sqsSends)}/${count(r.sqsReceives)}/${count(r.sqsDeletes)}`;

/** The report for a terminal. */
export function renderCostText(report: CostReport, routerName: string): string {
  const { prices, assumptions: a } = report;
  const monthly = report.rate * SECONDS_PER_MONTH;
  const lines = [
    `Cost of ${routerName} at ${count(report.rate)} events/s (${Math.round(monthly).toLocaleString('en-US')} events a month), ${prices.region} list prices as of ${prices.asOf}`,
    '',
    'Per event: the AWS requests one published event causes, follow-up events included',
    ...table(
      [
        'event',
        'events/s',
        'API',
        'PutEvents',
        'rule matches',
        'SQS send/recv/del',
        'invocations',
        'GB-s',
        'DynamoDB WCU',
        'log KB',
        'per million',
      ],
      report.events.map((e) => [
        e.event,
        count(e.rate),
        count(e.requests.apiRequests),
        count(e.requests.busEvents),
        count(e.requests.ruleMatches),
        sqs(e.requests),
        count(e.requests.invocations),
        e.requests.gbSeconds.toFixed(4),
        count(e.requests.dynamoWriteUnits),
        (e.requests.logBytes / 1024).toFixed(1),
        usd(e.usdPerMillion),
      ]),
    ),
    '',
    'Per RPC: one delivery',
    ...table(
      [
        'rpc',
        'deliveries/s',
        'batch',
        'MB',
        'SQS send/recv/del',
        'invocations',
        'DynamoDB WCU',
        'PutEvents',
        'per million',
        'per month',
      ],
      report.rpcs.map((r) => [
        r.rpc,
        count(r.deliveriesPerSecond),
        count(r.batchFill),
        String(r.memoryMb),
        sqs(r.requests),
        count(r.requests.invocations),
        count(r.requests.dynamoWriteUnits),
        count(r.requests.busEvents),
        usd(r.usdPerMillionDeliveries),
        usd(r.usdPerMonth),
      ]),
    ),
    '',
    'Where a million events of each kind go (USD)',
    ...table(
      ['event', 'EventBridge', 'SQS', 'Lambda', 'DynamoDB', 'API Gateway', 'Logs'],
      report.events.map((e) => [
        e.event,
        ...[
          e.perMillion.eventBridge,
          e.perMillion.sqs,
          e.perMillion.lambda,
          e.perMillion.dynamoDb,
          e.perMillion.apiGateway,
          e.perMillion.logs,
        ].map(usd),
      ]),
    ),
    '',
    `Per month: ${usd(report.usdPerMonth)} (idle polling ${usd(report.fixedPerMonth.idlePolling)} and alarms ${usd(report.fixedPerMonth.alarms)} included; no free tier)`,
    '',
    `Assumed: ${a.invocationMs} ms per worker invocation, publish ${a.publishVia === 'api' ? `through the publish API (${a.publishInvocationMs} ms at ${a.publishMemoryMb} MB)` : 'with PutEvents directly'}, ` +
      `${a.itemBytes}-byte delivery items, ${a.messageBytes}-byte messages, ${a.workerLogBytesPerDelivery} log bytes per delivery, ` +
      `${Object.keys(a.filterMatch).length === 0 ? 'every filter lets every event through' : 'filter shares as given'}, ` +
      'one follow-up per listed event per delivery, a steady load (events spread evenly, not in bursts; ' +
      "without a batching window a batch holds one message until a worker's pollers are all busy). " +
      'Change them with --prices <file>.',
  ];
  for (const warning of report.warnings) lines.push(`Warning: ${warning}`);
  return lines.join('\n');
}

/** The report as JSON. */
export function renderCostJson(report: CostReport): string {
  return JSON.stringify(report, null, 2);
}
