/**
 * Worker benchmark: what the idempotent worker costs on top of the handler.
 *
 * - deliveries/s through the worker (dynalite) next to Powertools' makeIdempotent per record inside
 *   its BatchProcessor (bench/powertools.ts), alternating in one run against the same dynalite, for
 *   first deliveries and for duplicates; the ratio worker / Powertools with its spread over the rounds;
 * - deliveries/s calling the handler function directly (no idempotency) as the upper bound;
 * - DynamoDB requests per first delivery and per duplicate (counted at dynalite's HTTP server);
 * - bundle size of an example handler, minified with the AWS SDK external (as the construct builds it);
 * - cold module-load time of that bundle in a fresh Node process.
 *
 * `npm run bench -- worker`, or alone: `node --import tsx bench/worker.ts`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { WorkerConfig } from '../functions/commons/config.ts';
import { handler } from '../functions/rpcs/notification-service/notify-cardholder.ts';
import { EVENT_SCHEMAS } from '../generated/events.ts';
import type { RpcContext } from '../generated/rpc.ts';
import { clientFor, createDeliveriesTable } from '../test/support/dynalite.ts';
import { bundleHandler, writeBundle } from '../test/worker/support/bundle.ts';
import { quietLogger, RecordingBus, RecordingQueue } from '../test/worker/support/fakes.ts';
import { authorizedPayload } from '../test/worker/support/harness.ts';
import {
  busEvent,
  lambdaContext,
  queueMessage,
  sqsEvent,
  sqsRecord,
} from '../test/worker/support/messages.ts';
import { createIdempotencyTable, powertoolsWorker } from './powertools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RPC = 'NotificationService/NotifyCardholder';
const EVENT = 'card.transaction.authorized';
const ENTRY = 'functions/rpcs/notification-service/notify-cardholder.ts';
/** Deliveries per round and side (`ER_BENCH_DELIVERIES` overrides). */
const DELIVERIES = Number(process.env.ER_BENCH_DELIVERIES) || 2000;
const BATCH = 10;
/** Invocations in flight at once (as several Lambda instances would be). */
const INVOCATIONS = 4;
const BUNDLE_GOAL_KB = 150;
/** Alternating rounds of worker and Powertools (the order flips every round). */
const ROUNDS = Number(process.env.ER_BENCH_ROUNDS) || 5;
const POWERTOOLS_TABLE = 'idempotency';

/**
 * A DynamoDB client for `endpoint` that counts the HTTP requests it sends (it makes no retries) and
 * the bytes of their bodies.
 */
function countingClient(
  endpoint: string,
  options: { cacheMiddleware?: boolean } = {},
): {
  client: DynamoDBClient;
  requests: () => number;
  bytes: () => number;
} {
  const client = clientFor(endpoint, options);
  let sent = 0;
  let bytes = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      sent++;
      const body = (args.request as { body?: unknown }).body;
      if (typeof body === 'string') bytes += Buffer.byteLength(body);
      else if (body instanceof Uint8Array) bytes += body.byteLength;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countDynamoRequests' },
  );
  return { client, requests: () => sent, bytes: () => bytes };
}

/**
 * dynalite in its own process (as DynamoDB is remote to a Lambda), with both workers' tables. Its
 * server keeps idle connections 65 s (as the local runtime's does): with Node's default of 5 s, the
 * first batch after a pause between rounds met sockets closed under it (ECONNRESET; the bench's
 * clients make no retries) and returned to the queue.
 */
async function startDynaliteProcess(): Promise<{ endpoint: string; cpuMs: () => number; close: () => void }> {
  const script =
    "process.on('SIGINT',()=>process.exit(0));const s=require('dynalite')({createTableMs:0,deleteTableMs:0,updateTableMs:0});" +
    "s.keepAliveTimeout=65000;s.listen(0,'127.0.0.1',()=>console.log(s.address().port));";
  const child = spawn(process.execPath, [...dynaliteNodeArgs(), '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const setup = clientFor(endpoint);
  await createDeliveriesTable(setup, 'deliveries');
  await createIdempotencyTable(setup, POWERTOOLS_TABLE);
  setup.destroy();
  return {
    endpoint,
    cpuMs: () => processCpuMs(child.pid ?? 0),
    close: () => {
      child.removeAllListeners('exit');
      // SIGINT lets a --cpu-prof run write its profile.
      child.kill('SIGINT');
    },
  };
}

/** CPU time (user + system) a process has used so far, in ms (Linux: /proc/<pid>/stat, 10 ms ticks). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** CPU time this process has used so far, in ms. */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Node flags for the dynalite process: `ER_BENCH_DYNALITE_PROF=<dir>` profiles it (`--cpu-prof`),
 * to see where the time of a delivery goes on the DynamoDB side.
 */
function dynaliteNodeArgs(): string[] {
  const dir = process.env.ER_BENCH_DYNALITE_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Calls the RPC function itself, without the worker: the baseline. */
async function directRate(): Promise<number> {
  const fn = handler.routes[EVENT];
  if (!fn) throw new Error(`${ENTRY} has no function for ${EVENT}`);
  const logger = quietLogger();
  const started = performance.now();
  for (let i = 0; i < DELIVERIES; i++) {
    const ctx: RpcContext<typeof EVENT> = {
      rpc: RPC,
      eventId: `e-${i}`,
      eventName: EVENT,
      occurredAt: '2026-11-20T10:00:00.000Z',
      attempt: 1,
      correlationId: `c-${i}`,
      logger,
      publish: async () => 'unused',
      remainingTimeMs: () => 30_000,
    };
    await fn(authorizedPayload(`tx-${i}`), ctx);
  }
  return DELIVERIES / ((performance.now() - started) / 1000);
}

type BatchWorker = (records: SQSRecord[]) => Promise<SQSBatchResponse>;

/**
 * Sends `records` through workers in batches, `INVOCATIONS` at a time, as that many Lambda execution
 * environments would: `lane(i)` is the worker of environment i. Returns deliveries/s.
 */
async function throughWorker(
  lane: (i: number) => BatchWorker,
  records: SQSRecord[],
): Promise<{ rate: number; failures: number }> {
  const batches: SQSRecord[][] = [];
  for (let i = 0; i < records.length; i += BATCH) batches.push(records.slice(i, i + BATCH));
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: INVOCATIONS }, async (_, i) => {
      const worker = lane(i);
      while (next < batches.length) {
        const batch = batches[next++] as SQSRecord[];
        failures += (await worker(batch)).batchItemFailures.length;
      }
    }),
  );
  return { rate: records.length / ((performance.now() - started) / 1000), failures };
}

/** `DELIVERIES` new deliveries of the benchmark's event, each with its own eventId. */
function newDeliveries(): SQSRecord[] {
  return Array.from({ length: DELIVERIES }, () => {
    const eventId = randomUUID();
    return sqsRecord(queueMessage(RPC, busEvent(EVENT, authorizedPayload(eventId), { eventId })));
  });
}

/** The same deliveries again, as new SQS messages (a redrive or a publisher's retry). */
function resent(records: SQSRecord[]): SQSRecord[] {
  return records.map((r) => sqsRecord(r.body));
}

interface Side {
  readonly name: string;
  readonly lane: (i: number) => BatchWorker;
  readonly requests: () => number;
  readonly bytes: () => number;
  /** Request body bytes per first delivery (over all rounds). */
  firstBytes: number;
  /** CPU ms per first delivery: this process (the worker's side), dynalite's process. */
  readonly cpu: { client: number[]; dynalite: number[] };
  /** CPU ms per duplicate, the same way. */
  readonly duplicateCpu: { client: number[]; dynalite: number[] };
  readonly first: number[];
  readonly duplicate: number[];
  firstRequests: number;
  duplicateRequests: number;
  failures: number;
}

/** One round for one side: new deliveries, then the same ones again; rates and requests recorded. */
async function measure(side: Side, dynaliteCpuMs: () => number): Promise<void> {
  const records = newDeliveries();
  let before = side.requests();
  const bytesBefore = side.bytes();
  const cpuBefore = { client: ownCpuMs(), dynalite: dynaliteCpuMs() };
  const first = await throughWorker(side.lane, records);
  side.cpu.client.push((ownCpuMs() - cpuBefore.client) / DELIVERIES);
  side.cpu.dynalite.push((dynaliteCpuMs() - cpuBefore.dynalite) / DELIVERIES);
  side.firstRequests += (side.requests() - before) / DELIVERIES;
  side.firstBytes += (side.bytes() - bytesBefore) / DELIVERIES;
  before = side.requests();
  const duplicateCpuBefore = { client: ownCpuMs(), dynalite: dynaliteCpuMs() };
  const duplicate = await throughWorker(side.lane, resent(records));
  side.duplicateCpu.client.push((ownCpuMs() - duplicateCpuBefore.client) / DELIVERIES);
  side.duplicateCpu.dynalite.push((dynaliteCpuMs() - duplicateCpuBefore.dynalite) / DELIVERIES);
  side.duplicateRequests += (side.requests() - before) / DELIVERIES;
  side.first.push(first.rate);
  side.duplicate.push(duplicate.rate);
  side.failures += first.failures + duplicate.failures;
}

/** "median (min-max)" of a list of numbers, with `digits` decimals. */
function spread(values: number[], digits = 0): string {
  const f = (v: number) => v.toFixed(digits);
  return `${f(median(values))} (${f(Math.min(...values))}-${f(Math.max(...values))})`;
}

const SDK_MODULES = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-eventbridge',
];

/**
 * Median ms (7 fresh Node processes) to import `file`; with `sdkFirst`, the SDK modules are loaded
 * before the clock starts (as the Lambda runtime provides them), so only the bundle's own cost counts.
 */
function coldImportMs(file: string, sdkFirst: boolean): number {
  const preload = sdkFirst ? SDK_MODULES.map((name) => `await import('${name}');`).join('') : '';
  const script = `${preload}const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t));`;
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, AWS_REGION: 'us-east-1', ER_RPC: RPC },
    });
    if (out.status !== 0) throw new Error(`Loading ${file} failed: ${out.stderr}`);
    samples.push(Number(out.stdout));
  }
  return median(samples);
}

export async function run(): Promise<void> {
  const dynalite = await startDynaliteProcess();
  const ours = countingClient(dynalite.endpoint);
  // The worker's per-record requests, through a client with cacheMiddleware as on Lambda (clients.ts).
  const oursCached = countingClient(dynalite.endpoint, { cacheMiddleware: true });
  const theirs = countingClient(dynalite.endpoint);
  try {
    const config: WorkerConfig = {
      rpc: RPC,
      deliveriesTable: 'deliveries',
      dlqUrl: 'http://127.0.0.1:4566/111122223333/bench-dlq',
      maxReceiveCount: 5,
      recordRetentionSeconds: 19 * 24 * 3600,
      eventSchemas: { [EVENT]: EVENT_SCHEMAS[EVENT] },
      remoteTimeoutMs: 1000,
    };
    const wired = handler.withDependencies({
      dynamo: DynamoDBDocumentClient.from(ours.client, { marshallOptions: { removeUndefinedValues: true } }),
      deliveryRequests: oursCached.client,
      queue: new RecordingQueue(),
      eventBus: new RecordingBus(),
      logger: quietLogger(),
      config,
    });
    const context = lambdaContext(30_000);
    const worker: BatchWorker = (records) => wired(sqsEvent(records), context);

    const fn = handler.routes[EVENT];
    if (!fn) throw new Error(`${ENTRY} has no function for ${EVENT}`);
    const logger = quietLogger();
    // The same RPC function, called with the context the worker would give it.
    const runDirect = (payload: unknown, eventId: string) =>
      Promise.resolve(
        fn(payload as Parameters<typeof fn>[0], {
          rpc: RPC,
          eventId,
          eventName: EVENT,
          occurredAt: '2026-11-20T10:00:00.000Z',
          attempt: 1,
          correlationId: eventId,
          logger,
          publish: async () => 'unused',
          remainingTimeMs: () => 30_000,
        }),
      );
    // One Powertools handler per execution environment: BatchProcessor keeps per-invocation state.
    const powertools = Array.from({ length: INVOCATIONS }, () =>
      powertoolsWorker(theirs.client, POWERTOOLS_TABLE, runDirect),
    );
    const sides: [Side, Side] = [
      {
        name: 'worker',
        lane: () => worker,
        requests: () => ours.requests() + oursCached.requests(),
        bytes: () => ours.bytes() + oursCached.bytes(),
        firstBytes: 0,
        cpu: { client: [], dynalite: [] },
        duplicateCpu: { client: [], dynalite: [] },
        first: [],
        duplicate: [],
        firstRequests: 0,
        duplicateRequests: 0,
        failures: 0,
      },
      {
        name: 'Powertools',
        lane: (i) => (records) => (powertools[i] as (typeof powertools)[number])(sqsEvent(records), context),
        requests: theirs.requests,
        bytes: theirs.bytes,
        firstBytes: 0,
        cpu: { client: [], dynalite: [] },
        duplicateCpu: { client: [], dynalite: [] },
        first: [],
        duplicate: [],
        firstRequests: 0,
        duplicateRequests: 0,
        failures: 0,
      },
    ];

    // Warm up both (JIT, connections) on other deliveries, then measure.
    for (const side of sides) await throughWorker(side.lane, newDeliveries().slice(0, 200));
    const direct = await directRate();
    // The worker's own CPU cost: the same pipeline over a DynamoDB stub that answers at once.
    const stub = {
      send: async () => ({ Attributes: { attempts: 1 } }),
    } as unknown as DynamoDBDocumentClient;
    const stubbed = wired.withDependencies({ dynamo: stub });
    const cpuOnly = await throughWorker(() => (batch) => stubbed(sqsEvent(batch), context), newDeliveries());

    const [ourSide, theirSide] = sides;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? sides : [theirSide, ourSide];
      for (const side of order) await measure(side, dynalite.cpuMs);
    }
    const ratios = (pick: (side: Side) => number[]) =>
      pick(ourSide).map((rate, i) => rate / (pick(theirSide)[i] as number));

    const code = await bundleHandler(ENTRY, { [EVENT]: EVENT_SCHEMAS[EVENT] });
    const file = writeBundle('bench-notify-cardholder.mjs', code);
    const loadMs = coldImportMs(file, false);
    const ownMs = coldImportMs(file, true);
    const kb = code.length / 1024;
    const remoteKb =
      (await bundleHandler('functions/remote-rpc/index.ts', { [EVENT]: EVENT_SCHEMAS[EVENT] })).length / 1024;

    const firstRate = median(ourSide.first);
    const cpu = (ms: { client: number[]; dynalite: number[] }) =>
      `${spread(ms.client, 2)} ms + dynalite ${spread(ms.dynalite, 2)} ms`;
    const rows: [string, string, string][] = [
      ['handler called directly', `${Math.round(direct).toLocaleString('en-US')} deliveries/s`, ''],
      [
        'first deliveries, worker',
        `${spread(ourSide.first)}/s`,
        `median (min-max) of ${ROUNDS} rounds; batches of ${BATCH}, ${INVOCATIONS} invocations in flight`,
      ],
      ['first deliveries, Powertools', `${spread(theirSide.first)}/s`, 'same deliveries, same dynalite'],
      [
        '  worker / Powertools',
        `x${spread(
          ratios((s) => s.first),
          2,
        )}`,
        'goal >= 1.0',
      ],
      [
        'CPU per first delivery, worker',
        cpu(ourSide.cpu),
        'client process + dynalite process; steadier than rates on a busy machine',
      ],
      ['CPU per first delivery, Powertools', cpu(theirSide.cpu), ''],
      ['duplicates, worker', `${spread(ourSide.duplicate)}/s`, 'acknowledged, not run'],
      ['duplicates, Powertools', `${spread(theirSide.duplicate)}/s`, ''],
      [
        '  worker / Powertools',
        `x${spread(
          ratios((s) => s.duplicate),
          2,
        )}`,
        'goal >= 1.0',
      ],
      ['CPU per duplicate, worker', cpu(ourSide.duplicateCpu), ''],
      ['CPU per duplicate, Powertools', cpu(theirSide.duplicateCpu), ''],
      [
        'overhead of the worker',
        `x${Math.round(direct / firstRate)} (${(1000 / firstRate - 1000 / direct).toFixed(2)} ms/delivery)`,
        'ratio direct / worker, first deliveries',
      ],
      [
        'worker over an instant DynamoDB stub',
        `${Math.round(cpuOnly.rate).toLocaleString('en-US')} deliveries/s`,
        `worker CPU only: ${(1000 / cpuOnly.rate).toFixed(3)} ms/delivery`,
      ],
      [
        'DynamoDB requests, first delivery',
        `${(ourSide.firstRequests / ROUNDS).toFixed(2)} (Powertools ${(theirSide.firstRequests / ROUNDS).toFixed(2)})`,
        'goal 2 (claim + complete)',
      ],
      [
        'request bytes per first delivery',
        `${(ourSide.firstBytes / ROUNDS).toFixed(0)} (Powertools ${(theirSide.firstBytes / ROUNDS).toFixed(0)})`,
        'JSON bodies sent to DynamoDB (expressions, names, values)',
      ],
      [
        'DynamoDB requests, duplicate',
        `${(ourSide.duplicateRequests / ROUNDS).toFixed(2)} (Powertools ${(theirSide.duplicateRequests / ROUNDS).toFixed(2)})`,
        'goal 1; DynamoDB returns the item with the failed claim, dynalite does not (+1 read)',
      ],
      [
        'bundle (minified, SDK external)',
        `${kb.toFixed(1)} KB (${(gzipSync(code).length / 1024).toFixed(1)} KB gzip)`,
        `goal < ${BUNDLE_GOAL_KB} KB: ${kb < BUNDLE_GOAL_KB ? 'met' : 'MISSED'}`,
      ],
      [
        'remote RPC worker bundle',
        `${remoteKb.toFixed(1)} KB`,
        'functions/remote-rpc/index.ts, same options',
      ],
      ['cold module load, bundle + SDK', `${loadMs.toFixed(0)} ms`, 'median of 7 fresh processes'],
      [
        'cold module load, bundle alone',
        `${ownMs.toFixed(0)} ms`,
        'SDK already loaded (the Lambda runtime ships it)',
      ],
    ];
    if (ourSide.failures > 0 || theirSide.failures > 0)
      rows.push([
        'records returned to the queue',
        `worker ${ourSide.failures}, Powertools ${theirSide.failures}`,
        'expected 0',
      ]);
    const width = Math.max(...rows.map(([name]) => name.length));
    const valueWidth = Math.max(...rows.map(([, value]) => value.length));
    console.log(`worker: ${ENTRY}, ${DELIVERIES} deliveries per round`);
    for (const [name, value, note] of rows)
      console.log(`  ${name.padEnd(width)}  ${value.padEnd(valueWidth)}  ${note}`);
  } finally {
    ours.client.destroy();
    oursCached.client.destroy();
    theirs.client.destroy();
    dynalite.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
