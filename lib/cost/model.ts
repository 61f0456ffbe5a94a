/**
 * The cost model: from the plan, the AWS requests one published event causes (through every rule,
 * queue, worker and follow-up event it sets off) and what they cost. Pure: plan, rate, prices and
 * assumptions in; numbers out. `event-router cost` prints it; `npm run bench -- cost` checks it against
 * the requests the local runtime counts for the example app.
 *
 * What one delivery to an RPC costs (steady state: no retries, no duplicates, no dead letters):
 * - the rule match (free on the default bus) and EventBridge's SendMessage to the RPC's queue;
 * - per batch of `fill` messages: one ReceiveMessage, one DeleteMessageBatch (the event source mapping)
 *   and one Lambda invocation of `invocationMs` at the RPC's memory;
 * - two DynamoDB writes (claim, then completion), `ceil(itemBytes / 1 KB)` write units each;
 * - the worker's log lines, and Lambda's own lines once per invocation;
 * - a PutEvents per follow-up event the RPC publishes (`publishesPerDelivery`, default 1 per event it
 *   lists under `publishes:`), and in turn everything those events cause.
 *
 * How many messages a batch holds (`fill`, see `batchFill`): a receive returns what is queued. With a
 * batching window, what arrives in the window spread over the RPC's pollers (`maxConcurrency`);
 * without one, 1 while the pollers keep up (deliveries/s x invocation time below the pollers: each
 * message is received alone as it arrives), and what arrives during an invocation, spread over the
 * pollers, once they are all busy. Between 1 and the batch size. The load is assumed steady (events
 * spread evenly over each second, not in bursts): bursts fill batches fuller and cost less.
 */
import type { Plan, RpcPlan } from '../plan/types.ts';
import type { Assumptions, Prices } from './prices.ts';

/** What the model reads of a plan. */
export type CostPlan = Pick<Plan, 'rules' | 'rpcs'>;

/** Seconds in the 30-day month prices are quoted for. */
export const SECONDS_PER_MONTH = 30 * 24 * 3600;
/** SQS and EventBridge bill each 64 KB chunk of a payload as one request or event. */
const CHUNK_BYTES = 64 * 1024;
/** Follow-up levels followed before a cycle of events publishing each other is cut. */
const MAX_DEPTH = 10;

/** AWS requests (and what is billed like them), per event or per delivery. */
export interface Requests {
  /** API Gateway requests (publish API). */
  readonly apiRequests: number;
  /** PutEvents calls. */
  readonly putEventsCalls: number;
  /** Events put on the bus, as billed (64 KB chunks). */
  readonly busEvents: number;
  /** Rule targets the event matched (not billed on the default bus). */
  readonly ruleMatches: number;
  /** SendMessage by EventBridge to the RPCs' queues. */
  readonly sqsSends: number;
  /** ReceiveMessage by the event source mappings (non-empty ones). */
  readonly sqsReceives: number;
  /** DeleteMessageBatch by the event source mappings. */
  readonly sqsDeletes: number;
  /** Lambda invocations (workers and publish API). */
  readonly invocations: number;
  readonly gbSeconds: number;
  /** DynamoDB write requests and the write units they consume. */
  readonly dynamoWrites: number;
  readonly dynamoWriteUnits: number;
  /** Bytes written to CloudWatch Logs. */
  readonly logBytes: number;
}

/** USD by service. */
export interface CostBreakdown {
  readonly eventBridge: number;
  readonly sqs: number;
  readonly lambda: number;
  readonly dynamoDb: number;
  readonly apiGateway: number;
  readonly logs: number;
}

export interface EventCost {
  readonly event: string;
  /** Events per second of this name in the modelled load. */
  readonly rate: number;
  /** What one such event causes, follow-ups included. */
  readonly requests: Requests;
  /** Expected deliveries per event, by RPC (filters applied). */
  readonly deliveries: Readonly<Record<string, number>>;
  /** USD per million events, by service, and in total. */
  readonly perMillion: CostBreakdown;
  readonly usdPerMillion: number;
}

export interface RpcCost {
  readonly rpc: string;
  /** Deliveries per second at the modelled load. */
  readonly deliveriesPerSecond: number;
  /** Messages per batch (see the module comment). */
  readonly batchFill: number;
  readonly memoryMb: number;
  /** What one delivery to this RPC costs in requests (its own follow-up PutEvents included). */
  readonly requests: Requests;
  readonly usdPerMillionDeliveries: number;
  /** Deliveries at the modelled load plus the RPC's fixed costs (idle polling, its alarms). */
  readonly usdPerMonth: number;
}

/**
 * Alarm metrics per RPC (CloudWatch prices a metric-math alarm per metric in it): DLQ depth (1),
 * backlog age (1), error rate (Errors and Invocations, 2). See lib/constructs/alarms.ts.
 */
export const ALARM_METRICS_PER_RPC = 4;

/** Alarm metrics per rule: FailedInvocations. */
export const ALARM_METRICS_PER_RULE = 1;

export interface CostReport {
  /** Events per second, all modelled events together. */
  readonly rate: number;
  readonly events: readonly EventCost[];
  readonly rpcs: readonly RpcCost[];
  /** Monthly costs that do not depend on the load. */
  readonly fixedPerMonth: {
    /** Empty long-polling receives of the event source mappings. */
    readonly idlePolling: number;
    /**
     * Alarms, priced per metric they watch: per RPC DLQ depth, backlog and error rate (two metrics),
     * per rule failed invocations.
     */
    readonly alarms: number;
  };
  readonly usdPerMonth: number;
  readonly prices: Prices;
  readonly assumptions: Assumptions;
  readonly warnings: readonly string[];
}

export interface CostOptions {
  /** Events per second, split evenly over `events`. */
  readonly rate: number;
  /**
   * Events the load is made of.
   * @default - every event some rule matches that no RPC publishes (the ones publishers outside put)
   */
  readonly events?: readonly string[];
  readonly prices: Prices;
  readonly assumptions: Assumptions;
}

const ZERO: Requests = {
  apiRequests: 0,
  putEventsCalls: 0,
  busEvents: 0,
  ruleMatches: 0,
  sqsSends: 0,
  sqsReceives: 0,
  sqsDeletes: 0,
  invocations: 0,
  gbSeconds: 0,
  dynamoWrites: 0,
  dynamoWriteUnits: 0,
  logBytes: 0,
};

function add(a: Requests, b: Requests, times = 1): Requests {
  const out: Record<string, number> = {};
  for (const key of Object.keys(ZERO) as (keyof Requests)[]) out[key] = a[key] + b[key] * times;
  return out as unknown as Requests;
}

const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / CHUNK_BYTES));

/** The key of a subscription in `filterMatch`, and of a follow-up in `publishesPerDelivery`. */
export const subscriptionKey = (event: string, rpc: string) => `${event} -> ${rpc}`;
export const followUpKey = (rpc: string, event: string) => `${rpc} -> ${event}`;

/** Events the plan's rules match that no RPC publishes: what outside publishers put. */
export function entryEvents(plan: CostPlan): string[] {
  const published = new Set(plan.rpcs.flatMap((rpc) => rpc.publishes));
  return [...new Set(plan.rules.map((rule) => rule.eventName))].filter((name) => !published.has(name));
}

/** Expected deliveries (by RPC) and follow-up PutEvents (by RPC) that one `event` causes. */
function cascade(
  plan: CostPlan,
  event: string,
  assumptions: Assumptions,
  warnings: Set<string>,
): { deliveries: Map<string, number> } {
  const deliveries = new Map<string, number>();
  const rpcs = new Map(plan.rpcs.map((rpc) => [rpc.id, rpc]));
  const visit = (name: string, weight: number, depth: number) => {
    if (depth > MAX_DEPTH) {
      warnings.add(
        `Events published by RPCs form a cycle through ${name}: counted ${MAX_DEPTH} follow-up levels deep.`,
      );
      return;
    }
    for (const rule of plan.rules) {
      if (rule.eventName !== name) continue;
      for (const target of rule.targets) {
        const match = rule.filter ? (assumptions.filterMatch[subscriptionKey(name, target.rpc)] ?? 1) : 1;
        const share = weight * match;
        if (share === 0) continue;
        deliveries.set(target.rpc, (deliveries.get(target.rpc) ?? 0) + share);
        for (const next of rpcs.get(target.rpc)?.publishes ?? [])
          visit(
            next,
            share * (assumptions.publishesPerDelivery[followUpKey(target.rpc, next)] ?? 1),
            depth + 1,
          );
      }
    }
  };
  visit(event, 1, 0);
  return { deliveries };
}

/**
 * Messages per batch of `rpc` receiving `perSecond` deliveries whose invocations take `invocationMs`.
 * A receive returns what is queued: with a batching window, what arrives in the window, spread over
 * the RPC's pollers; without one, what arrived while every poller was busy, which is nothing (a
 * batch of 1) until `perSecond x invocation time` reaches the pollers (`maxConcurrency`), and then
 * what arrives during an invocation, spread over them. Between 1 and the batch size.
 */
export function batchFill(rpc: RpcPlan, perSecond: number, invocationMs: number): number {
  const { batchSize, batchingWindowSeconds, maxConcurrency } = rpc.settings;
  const pollers = Math.max(1, maxConcurrency);
  const inWindow = (perSecond * Math.max(0, batchingWindowSeconds)) / pollers;
  const whileBusy = (perSecond * invocationMs) / 1000 / pollers;
  return Math.min(batchSize, Math.max(1, inWindow, whileBusy));
}

/** Requests of one delivery to `rpc` whose batches hold `fill` messages. */
export function deliveryRequests(rpc: RpcPlan, fill: number, assumptions: Assumptions): Requests {
  const a = assumptions;
  const followUps = rpc.publishes.reduce(
    (n, event) => n + (a.publishesPerDelivery[followUpKey(rpc.id, event)] ?? 1),
    0,
  );
  return {
    ...ZERO,
    ruleMatches: 1,
    sqsSends: chunks(a.messageBytes),
    sqsReceives: chunks(fill * a.messageBytes) / fill,
    sqsDeletes: 1 / fill,
    invocations: 1 / fill,
    gbSeconds: ((rpc.settings.memoryMb / 1024) * (a.invocationMs / 1000)) / fill,
    dynamoWrites: 2,
    dynamoWriteUnits: 2 * Math.max(1, Math.ceil(a.itemBytes / 1024)),
    logBytes: a.workerLogBytesPerDelivery + a.platformLogBytesPerInvocation / fill,
    putEventsCalls: followUps,
    busEvents: followUps * chunks(a.messageBytes),
  };
}

/** Requests of putting one event from outside (through the publish API or PutEvents directly). */
export function publishRequests(assumptions: Assumptions): Requests {
  const a = assumptions;
  const event = { ...ZERO, putEventsCalls: 1, busEvents: chunks(a.messageBytes) };
  if (a.publishVia === 'direct') return event;
  return {
    ...event,
    apiRequests: 1,
    invocations: 1,
    gbSeconds: (a.publishMemoryMb / 1024) * (a.publishInvocationMs / 1000),
    logBytes: a.publishLogBytes,
  };
}

/** USD of `requests`, by service. */
export function priced(requests: Requests, prices: Prices): CostBreakdown {
  const m = 1e6;
  return {
    eventBridge: (requests.busEvents * prices.eventBridgeEventsPerMillion) / m,
    sqs:
      ((requests.sqsSends + requests.sqsReceives + requests.sqsDeletes) * prices.sqsRequestsPerMillion) / m,
    lambda:
      (requests.invocations * prices.lambdaRequestsPerMillion) / m +
      requests.gbSeconds * prices.lambdaGbSecond,
    dynamoDb: (requests.dynamoWriteUnits * prices.dynamoWriteUnitsPerMillion) / m,
    apiGateway: (requests.apiRequests * prices.apiGatewayRequestsPerMillion) / m,
    logs: (requests.logBytes / 1024 ** 3) * prices.logsIngestionPerGb,
  };
}

export const total = (cost: CostBreakdown): number => Object.values(cost).reduce((sum, usd) => sum + usd, 0);

function scaled(cost: CostBreakdown, times: number): CostBreakdown {
  return Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, v * times])) as unknown as CostBreakdown;
}

/** The cost of `plan` under `options`. Throws when `options.events` names an event no rule matches. */
export function costOf(plan: CostPlan, options: CostOptions): CostReport {
  const { prices, assumptions } = options;
  const known = [
    ...new Set([...plan.rules.map((r) => r.eventName), ...plan.rpcs.flatMap((r) => r.publishes)]),
  ];
  const events = options.events && options.events.length > 0 ? [...options.events] : entryEvents(plan);
  const unknown = events.filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new Error(
      `No rule matches ${unknown.map((n) => `"${n}"`).join(', ')}; events with subscribers: ${known.join(', ')}.`,
    );
  if (!(options.rate >= 0))
    throw new Error(`The rate is ${options.rate}; give events per second, 0 or more.`);
  const warnings = new Set<string>();
  const perEventRate = events.length === 0 ? 0 : options.rate / events.length;
  const cascades = new Map(events.map((name) => [name, cascade(plan, name, assumptions, warnings)]));

  const rpcRate = new Map<string, number>();
  for (const { deliveries } of cascades.values())
    for (const [rpc, n] of deliveries) rpcRate.set(rpc, (rpcRate.get(rpc) ?? 0) + n * perEventRate);
  const perDelivery = new Map(
    plan.rpcs.map((rpc) => [
      rpc.id,
      deliveryRequests(rpc, batchFill(rpc, rpcRate.get(rpc.id) ?? 0, assumptions.invocationMs), assumptions),
    ]),
  );

  const eventCosts: EventCost[] = events.map((name) => {
    const { deliveries } = cascades.get(name) as { deliveries: Map<string, number> };
    let requests = publishRequests(assumptions);
    for (const [rpc, n] of deliveries) requests = add(requests, perDelivery.get(rpc) ?? ZERO, n);
    const perMillion = scaled(priced(requests, prices), 1e6);
    return {
      event: name,
      rate: perEventRate,
      requests,
      deliveries: Object.fromEntries(deliveries),
      perMillion,
      usdPerMillion: total(perMillion),
    };
  });

  const idlePerQueue =
    ((assumptions.idlePollersPerQueue * assumptions.idleReceivesPerPollerPerMinute * SECONDS_PER_MONTH) /
      60) *
    (prices.sqsRequestsPerMillion / 1e6);
  const rpcCosts: RpcCost[] = plan.rpcs.map((rpc) => {
    const requests = perDelivery.get(rpc.id) ?? ZERO;
    const perDeliveryUsd = total(priced(requests, prices));
    const perSecond = rpcRate.get(rpc.id) ?? 0;
    return {
      rpc: rpc.id,
      deliveriesPerSecond: perSecond,
      batchFill: batchFill(rpc, perSecond, assumptions.invocationMs),
      memoryMb: rpc.settings.memoryMb,
      requests,
      usdPerMillionDeliveries: perDeliveryUsd * 1e6,
      usdPerMonth:
        perDeliveryUsd * perSecond * SECONDS_PER_MONTH +
        idlePerQueue +
        ALARM_METRICS_PER_RPC * prices.alarmPerMonth,
    };
  });

  const fixedPerMonth = {
    idlePolling: idlePerQueue * plan.rpcs.length,
    alarms:
      prices.alarmPerMonth *
      (ALARM_METRICS_PER_RPC * plan.rpcs.length + ALARM_METRICS_PER_RULE * plan.rules.length),
  };
  const variable = eventCosts.reduce(
    (sum, e) => sum + (e.usdPerMillion / 1e6) * e.rate * SECONDS_PER_MONTH,
    0,
  );
  return {
    rate: options.rate,
    events: eventCosts,
    rpcs: rpcCosts,
    fixedPerMonth,
    usdPerMonth: variable + fixedPerMonth.idlePolling + fixedPerMonth.alarms,
    prices,
    assumptions,
    warnings: [...warnings],
  };
}
