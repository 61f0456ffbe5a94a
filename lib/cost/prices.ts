/**
 * The prices and assumptions the cost model uses, and how a file overrides them.
 *
 * Prices are AWS list prices for us-east-1, on-demand, first tier, without free tiers, as published on
 * each service's pricing page on {@link LIST_PRICES}`.asOf`. They change: check them, and put your
 * region's or your contract's prices in a file (`event-router cost --prices prices.json`):
 *
 * ```json
 * { "prices": { "sqsRequestsPerMillion": 0.4 },
 *   "assumptions": { "invocationMs": 25, "filterMatch": { "card.transaction.authorized -> ReceiptService/RequestReceipt": 0.3 } } }
 * ```
 */
import { readFileSync } from 'node:fs';

/** USD prices. Each field names its unit. */
export interface Prices {
  /** Where and when these prices were read. */
  readonly region: string;
  readonly asOf: string;
  /** EventBridge custom events put on a bus, per million (each 64 KB chunk of an entry is one event). */
  readonly eventBridgeEventsPerMillion: number;
  /** SQS standard queue requests, per million (each 64 KB chunk of a request is one request). */
  readonly sqsRequestsPerMillion: number;
  /** Lambda requests (invocations), per million. */
  readonly lambdaRequestsPerMillion: number;
  /** Lambda duration on arm64 (every function of the router is arm64), per GB-second. */
  readonly lambdaGbSecond: number;
  /** DynamoDB on-demand write request units, per million (one per KB of item written). */
  readonly dynamoWriteUnitsPerMillion: number;
  /** DynamoDB on-demand read request units, per million. */
  readonly dynamoReadUnitsPerMillion: number;
  /** API Gateway REST API requests, per million (the publish API is a REST API). */
  readonly apiGatewayRequestsPerMillion: number;
  /** CloudWatch Logs ingestion (standard class), per GB. */
  readonly logsIngestionPerGb: number;
  /** CloudWatch standard-resolution metric alarm, per alarm and month. */
  readonly alarmPerMonth: number;
}

/**
 * us-east-1 list prices. Sources: aws.amazon.com/eventbridge/pricing (custom events $1.00/M),
 * aws.amazon.com/sqs/pricing (standard queues $0.40/M, first 100 billion a month), aws.amazon.com/lambda/pricing
 * (requests $0.20/M; arm64 $0.0000133334 per GB-s, first 7.5 billion GB-s), aws.amazon.com/dynamodb/pricing/on-demand
 * (since 2024-11-01: $0.625 per million write and $0.125 per million read request units),
 * aws.amazon.com/api-gateway/pricing (REST $3.50/M, first 333 million), aws.amazon.com/cloudwatch/pricing
 * (logs ingestion $0.50/GB, standard alarm $0.10/month).
 */
export const LIST_PRICES: Prices = {
  region: 'us-east-1',
  asOf: '2025-06-01',
  eventBridgeEventsPerMillion: 1.0,
  sqsRequestsPerMillion: 0.4,
  lambdaRequestsPerMillion: 0.2,
  lambdaGbSecond: 0.0000133334,
  dynamoWriteUnitsPerMillion: 0.625,
  dynamoReadUnitsPerMillion: 0.125,
  apiGatewayRequestsPerMillion: 3.5,
  logsIngestionPerGb: 0.5,
  alarmPerMonth: 0.1,
};

/** What the model cannot read from the plan. Each default says where it comes from. */
export interface Assumptions {
  /**
   * Billed duration of one worker invocation, in ms (a batch's records run concurrently in it); it
   * also sets how full batches get once a worker's pollers are all busy (see `batchFill`).
   * @default 40 - two DynamoDB writes per record in the region plus a small handler
   */
  readonly invocationMs: number;
  /** Billed duration of one publish API invocation, in ms. @default 30 */
  readonly publishInvocationMs: number;
  /** Memory of the publish API function, in MB (as lib/constructs/publish-api.ts declares it). @default 512 */
  readonly publishMemoryMb: number;
  /** How external publishers put events: through the publish API (`api`) or PutEvents directly (`direct`). @default 'api' */
  readonly publishVia: 'api' | 'direct';
  /** Size of a delivery's item in the deliveries table, in bytes, result included. @default 600 */
  readonly itemBytes: number;
  /** Size of the message on an RPC's queue (the EventBridge event with its envelope), in bytes. @default 1500 */
  readonly messageBytes: number;
  /**
   * Log bytes a worker writes per delivery (its JSON lines at the default level, the handler's own
   * lines included: Powertools JSON lines carry the Lambda context on each). @default 1400 - about
   * what `npm run bench -- cost` counts on the example app (1.5 KB there, retries included)
   */
  readonly workerLogBytesPerDelivery: number;
  /** Log bytes Lambda itself writes per invocation (START, END, REPORT lines). @default 260 */
  readonly platformLogBytesPerInvocation: number;
  /** Log bytes of one publish API request: the function's lines and the API's access log line. @default 900 */
  readonly publishLogBytes: number;
  /**
   * Pollers per queue that the event source mapping keeps long-polling (20 s) while the queue is empty,
   * and their empty receives per minute. @default 5 pollers, 3 receives per minute
   */
  readonly idlePollersPerQueue: number;
  readonly idleReceivesPerPollerPerMinute: number;
  /**
   * Share of events a subscription's content filter lets through, 0..1, keyed `"<event> -> <rpc>"`.
   * @default - 1 for every subscription (a filtered subscription is costed as if everything matched)
   */
  readonly filterMatch: Readonly<Record<string, number>>;
  /**
   * Events an RPC publishes per delivery, keyed `"<rpc> -> <event>"`.
   * @default - 1 for every event listed under the RPC's `publishes:`
   */
  readonly publishesPerDelivery: Readonly<Record<string, number>>;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  invocationMs: 40,
  publishInvocationMs: 30,
  publishMemoryMb: 512,
  publishVia: 'api',
  itemBytes: 600,
  messageBytes: 1500,
  workerLogBytesPerDelivery: 1400,
  platformLogBytesPerInvocation: 260,
  publishLogBytes: 900,
  idlePollersPerQueue: 5,
  idleReceivesPerPollerPerMinute: 3,
  filterMatch: {},
  publishesPerDelivery: {},
};

/** What a prices file may hold. */
export interface PriceOverrides {
  readonly prices?: Partial<Prices>;
  readonly assumptions?: Partial<Assumptions>;
}

const RATIO_MAPS = new Set(['filterMatch', 'publishesPerDelivery']);

function checkNumbers(
  section: string,
  given: Record<string, unknown>,
  defaults: object,
  problems: string[],
): void {
  const known = Object.keys(defaults);
  for (const [key, value] of Object.entries(given)) {
    const at = `${section}.${key}`;
    if (!known.includes(key)) {
      problems.push(`${at} is not known (known: ${known.join(', ')})`);
      continue;
    }
    const expected = typeof (defaults as Record<string, unknown>)[key];
    if (RATIO_MAPS.has(key)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${at} must be an object of "<from> -> <to>": number`);
        continue;
      }
      for (const [pair, n] of Object.entries(value))
        if (typeof n !== 'number' || n < 0 || (key === 'filterMatch' && n > 1))
          problems.push(
            `${at}["${pair}"] is ${JSON.stringify(n)}; use a number ${key === 'filterMatch' ? 'from 0 to 1' : '>= 0'}`,
          );
    } else if (key === 'publishVia') {
      if (value !== 'api' && value !== 'direct')
        problems.push(`${at} is ${JSON.stringify(value)}; use "api" or "direct"`);
    } else if (expected === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        problems.push(`${at} is ${JSON.stringify(value)}; use a number >= 0`);
    } else if (typeof value !== expected)
      problems.push(`${at} is ${JSON.stringify(value)}; use a ${expected}`);
  }
}

/** Checks an overrides object; every problem in one error. */
export function parseOverrides(raw: unknown, source = 'the prices file'): PriceOverrides {
  const problems: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new Error(`${source} must hold a JSON object with "prices" and/or "assumptions".`);
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (key !== 'prices' && key !== 'assumptions')
      problems.push(`"${key}" is not known (known: prices, assumptions)`);
  for (const [section, defaults] of [
    ['prices', LIST_PRICES],
    ['assumptions', DEFAULT_ASSUMPTIONS],
  ] as const) {
    const given = record[section];
    if (given === undefined) continue;
    if (given === null || typeof given !== 'object' || Array.isArray(given)) {
      problems.push(`"${section}" must be an object`);
      continue;
    }
    checkNumbers(section, given as Record<string, unknown>, defaults, problems);
  }
  if (problems.length > 0) throw new Error(`${source}: ${problems.join('; ')}.`);
  return record as PriceOverrides;
}

/** Reads a prices file (JSON). */
export function readOverrides(file: string): PriceOverrides {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Could not read the prices file ${file}: ${(error as Error).message}`);
  }
  return parseOverrides(raw, file);
}

/** The defaults with `overrides` applied. */
export function withOverrides(overrides: PriceOverrides = {}): { prices: Prices; assumptions: Assumptions } {
  return {
    prices: { ...LIST_PRICES, ...overrides.prices },
    assumptions: {
      ...DEFAULT_ASSUMPTIONS,
      ...overrides.assumptions,
      filterMatch: { ...DEFAULT_ASSUMPTIONS.filterMatch, ...overrides.assumptions?.filterMatch },
      publishesPerDelivery: {
        ...DEFAULT_ASSUMPTIONS.publishesPerDelivery,
        ...overrides.assumptions?.publishesPerDelivery,
      },
    },
  };
}
