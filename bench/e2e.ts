/**
 * End-to-end benchmark of the local runtime on the example app (synthesized by the real CDK app):
 * deliveries per second and publish-to-handled latency (p50, p99) at a fixed offered load and at
 * saturation, next to the ceiling of this machine, and the resident memory of a runtime holding
 * 100,000 queued messages. Durable state (a temporary state directory), as `npm start` runs.
 *
 * The ceiling is dynalite doing the same two conditional writes per delivery with no routing, set up
 * as the runtime runs a worker: dynalite (durable) served over HTTP from this process, the writes made
 * from another process (bench/ceiling-client.ts) with the concurrency of the RPC's pollers (maximum
 * concurrency x batch size, each batch's records as many at a time as the worker runs them).
 * Saturation and ceiling runs are interleaved, three of each, and the ratio is given with its spread.
 *
 * The fixed load is published from its own process (bench/publish-client.ts), as a publisher is, after
 * a few seconds of the same load that are not counted (the steady state is measured; their p99 is
 * printed too).
 *
 * Run alone: `node --import tsx bench/e2e.ts`; or with the others: `npm run bench`.
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { publisherSource } from '../common/naming.ts';
import { DEFAULT_WORKER_OPTIONS } from '../functions/commons/options.ts';
import { isStale, synthesize } from '../lib/local/assembly/synth.ts';
import { RequestCounter } from '../lib/local/runtime/request-counter.ts';
import { LocalRuntime } from '../lib/local/runtime/runtime.ts';
import { LocalDynamoDb } from '../lib/local/services/dynamodb/dynamodb.ts';
import { deliveriesTableKey } from '../test/support/deliveries-table.ts';
import { detail } from './publish-detail.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUTER = join(ROOT, 'event-router.yaml');
const BUS = 'cardflow-dev-bus';
const CLIENT = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;
/** One RPC (ReceiptService/LinkReceipt) per event: one delivery per publish. */
const EVENT = 'receipt.uploaded';
const RPC = 'ReceiptService/LinkReceipt';

const FIXED_RATE = 100;
const FIXED_SECONDS = 8;
/**
 * Runs of the fixed load, one after another: its p99 is set by the few slowest of 800 deliveries, so
 * one hiccup of a shared machine moves it; the median of the runs, with their spread, is printed.
 */
const FIXED_RUNS = 3;
/**
 * Seconds of the fixed load run first and not counted: the first seconds after start run code the JIT
 * has not optimized yet (runtime, dynalite, the worker and its SDK), the steady state is what is measured.
 */
const WARM_SECONDS = 3;
const SATURATION_EVENTS = 1500;
const CEILING_DELIVERIES = 1500;
/** Interleaved saturation and ceiling runs. */
const RUNS = 3;
const QUEUED_MESSAGES = 100_000;

/** Epoch ms with sub-millisecond precision, the same clock in every process of the bench. */
const epochNow = () => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function assembly(): Promise<{ dir: string; cleanup: () => void }> {
  const local = join(ROOT, 'cdk.out');
  if (!isStale(local, ROUTER)) return { dir: local, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'er-bench-app-'));
  const code = await synthesize(ROUTER, dir, { echo: false });
  if (code !== 0) throw new Error('event-router synth failed; see above.');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Phase {
  readonly deliveries: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * When each delivery of the bench passed the runtime's stages (epoch ms, by eventId): routed to its
 * queue (the bus's SendMessage done), and the length of the invocation that handled it (from the
 * function process being handed the batch to its answer).
 */
export interface Trace {
  readonly routed: Map<string, number>;
  readonly invocationMs: Map<string, number>;
}

/** A delivery's latency in stages: publish -> routed, routed -> invoked, the invocation. */
interface Stages {
  readonly total: number;
  readonly toRouted: number;
  readonly toInvoked: number;
  readonly invocation: number;
}

function stagesOf(id: string, sentAt: number, done: Map<string, number>, trace: Trace): Stages | undefined {
  const end = done.get(id);
  const routed = trace.routed.get(id);
  const invocation = trace.invocationMs.get(id);
  if (end === undefined || routed === undefined || invocation === undefined) return undefined;
  return {
    total: end - sentAt,
    toRouted: routed - sentAt,
    toInvoked: end - invocation - routed,
    invocation,
  };
}

/**
 * Where the time of the fixed load's deliveries went: each stage's p50 and p99, and the stages of the
 * slowest 1% (their medians), which are what sets the p99.
 */
function stageReport(stages: Stages[]): string {
  if (stages.length === 0) return 'no stage timings recorded';
  const names: [keyof Stages, string][] = [
    ['toRouted', 'publish->routed'],
    ['toInvoked', 'routed->invoked'],
    ['invocation', 'invocation'],
  ];
  const sortedBy = (key: keyof Stages) => stages.map((s) => s[key]).sort((a, b) => a - b);
  const each = names
    .map(([key, name]) => {
      const sorted = sortedBy(key);
      return `${name} p50 ${percentile(sorted, 50).toFixed(1)} / p99 ${percentile(sorted, 99).toFixed(1)} ms`;
    })
    .join(', ');
  const slowest = [...stages]
    .sort((a, b) => b.total - a.total)
    .slice(0, Math.max(1, Math.ceil(stages.length / 100)));
  const tail = names
    .map(([key, name]) => `${name} ${median(slowest.map((s) => s[key])).toFixed(1)}`)
    .join(', ');
  return `${each}; the slowest 1% (${slowest.length}), medians: ${tail} ms`;
}

/** Publishes `total` events with at most `inFlight` PutEvents requests at once and `perSecond` pacing (0 = none). */
export async function drive(
  runtime: LocalRuntime,
  done: Map<string, number>,
  total: number,
  perSecond: number,
): Promise<Phase> {
  const events = new EventBridgeClient({ ...CLIENT, endpoint: runtime.url });
  const sentAt = new Map<string, number>();
  const started = epochNow();
  const batch = perSecond > 0 ? 1 : 10;
  const inFlight = perSecond > 0 ? 64 : 4;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const ids: string[] = [];
      for (let i = 0; i < batch && next < total; i++, next++) ids.push(randomUUID());
      if (perSecond > 0) {
        const due = started + ((next - 1) * 1000) / perSecond;
        const wait = due - epochNow();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const now = epochNow();
      for (const id of ids) sentAt.set(id, now);
      const out = await events.send(
        new PutEventsCommand({
          Entries: ids.map((id) => ({
            EventBusName: BUS,
            // receipt.uploaded's declared publisher: rules deliver only events from its source.
            Source: publisherSource('cardflow', 'MobileApp'),
            DetailType: EVENT,
            Detail: detail(id),
          })),
        }),
      );
      if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const deadline = epochNow() + 120_000;
  while ([...sentAt.keys()].some((id) => !done.has(id)) && epochNow() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const latencies = [...sentAt]
    .filter(([id]) => done.has(id))
    .map(([id, t]) => (done.get(id) ?? t) - t)
    .sort((a, b) => a - b);
  const last = Math.max(...[...sentAt.keys()].map((id) => done.get(id) ?? 0));
  events.destroy();
  return {
    deliveries: latencies.length,
    seconds: (last - started) / 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/**
 * The fixed load, published from its own process (bench/publish-client.ts), as a real publisher is:
 * the SDK client's signing and HTTP then do not run on the runtime's event loop. Latencies are read
 * on the clock both processes share (`performance.timeOrigin + performance.now()`).
 */
export async function driveFromOutside(
  runtime: LocalRuntime,
  done: Map<string, number>,
  total: number,
  perSecond: number,
  measure: { start: (publisherPid: number) => void },
  trace?: Trace,
): Promise<Phase & { publisherPid: number; publisherCpuMs: number; stages: string }> {
  const args = ['--import', 'tsx', join(ROOT, 'bench', 'publish-client.ts'), runtime.url, BUS, String(total)];
  const child = spawn(process.execPath, [...args, String(perSecond)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let last = '';
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') resolve();
      last = line;
    });
    exited.then((code) => reject(new Error(`The publisher exited (${code}) before it was ready.`)));
  });
  measure.start(child.pid ?? 0);
  const started = epochNow();
  child.stdin?.write('go\n');
  const code = await exited;
  if (code !== 0) throw new Error(`The publisher failed (exit ${code}): ${last}`);
  const { sent, cpuMs } = JSON.parse(last) as { sent: [string, number][]; cpuMs: number };
  const deadline = performance.now() + 120_000;
  while (sent.some(([id]) => !done.has(id)) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const latencies = sent
    .filter(([id]) => done.has(id))
    .map(([id, t]) => (done.get(id) ?? t) - t)
    .sort((a, b) => a - b);
  const lastDone = Math.max(...sent.map(([id]) => done.get(id) ?? 0));
  return {
    deliveries: latencies.length,
    seconds: (lastDone - started) / 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    publisherPid: child.pid ?? 0,
    publisherCpuMs: cpuMs,
    stages: trace
      ? stageReport(
          sent.flatMap(([id, t]) => {
            const s = stagesOf(id, t, done, trace);
            return s ? [s] : [];
          }),
        )
      : '',
  };
}

/** How the runtime drives the worker of `rpc`: pollers (maximum concurrency) and batch size. */
function pollingOf(runtime: LocalRuntime, rpc: string): { pollers: number; batch: number } {
  const fn = runtime.model.functions.find((f) => f.environment.ER_RPC === rpc);
  const mapping = runtime.model.mappings.find((m) => m.functionName === fn?.name);
  if (!mapping) throw new Error(`No event source mapping for ${rpc} in the example app.`);
  return { pollers: mapping.maximumConcurrency, batch: mapping.batchSize };
}

/** dynalite alone, durable, served over HTTP from this process (as the runtime serves it). */
async function startCeilingDynamo(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'er-bench-ceiling-'));
  const db = await LocalDynamoDb.start(join(dir, 'dynamodb'));
  await db.ensureTables([{ TableName: 'ceiling', ...deliveriesTableKey() }]);
  const server = createServer((req, res) => db.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closed = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One ceiling run: `total` claim + complete pairs from another process; deliveries/s. */
async function ceiling(
  endpoint: string,
  total: number,
  polling: { pollers: number; batch: number },
): Promise<number> {
  const args = [
    '--import',
    'tsx',
    join(ROOT, 'bench', 'ceiling-client.ts'),
    endpoint,
    'ceiling',
    String(total),
    String(polling.pollers),
    String(polling.batch),
    String(DEFAULT_WORKER_OPTIONS.concurrency),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`The ceiling client failed (exit ${code}): ${out}`);
  return (JSON.parse(last) as { rate: number }).rate;
}

/** CPU time this process has used so far, in ms. */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU time (user + system) the live child processes of this one (the function processes) have used, in ms. */
function childrenCpuMs(except?: number): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (Number(fields[1]) !== process.pid || Number(pid) === except) continue;
      total += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** Starts `event-router dev` in a child process, queues `count` messages, and reads its RSS. */
async function queuedMemory(
  cdkOut: string,
  count: number,
): Promise<{ idle: number; loaded: number; seconds: number }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'er-bench-state-'));
  const cli = join(ROOT, 'bin', 'event-router.js');
  const child = spawn(
    process.execPath,
    [cli, 'dev', '--no-synth', '--cdk-out', cdkOut, '--port', '0', '--state-dir', stateDir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const m = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`dev exited (${code})`)));
  });
  await new Promise((r) => setTimeout(r, 1000));
  const pid = child.pid ?? 0;
  const idle = rssOf(pid);
  const sqs = new SQSClient({ ...CLIENT, endpoint: url });
  // A DLQ: nothing polls it, so the messages stay queued.
  const queueUrl = `${url}/000000000000/cardflow-dev-receipt-service-link-receipt-dlq`;
  const body = detail('x'.repeat(36));
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const entries = [];
      for (let i = 0; i < 10 && next < count; i++, next++) entries.push({ Id: `m${i}`, MessageBody: body });
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const seconds = (performance.now() - started) / 1000;
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  if (Number(Attributes.ApproximateNumberOfMessages) < count)
    throw new Error(`only ${Attributes.ApproximateNumberOfMessages} messages queued`);
  const loaded = rssOf(pid);
  sqs.destroy();
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
  rmSync(stateDir, { recursive: true, force: true });
  return { idle, loaded, seconds };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** "median (min-max)". */
function spread(values: number[], format: (v: number) => string): string {
  return `${format(median(values))} (${format(Math.min(...values))}-${format(Math.max(...values))})`;
}

export async function run(): Promise<void> {
  const app = await assembly();
  const stateDir = mkdtempSync(join(tmpdir(), 'er-bench-runtime-'));
  const done = new Map<string, number>();
  const trace: Trace = { routed: new Map(), invocationMs: new Map() };
  // Counts invocations, to show how full the poller's batches are at each load.
  const counter = new RequestCounter();
  const runtime = await LocalRuntime.start({
    cdkOut: app.dir,
    port: 0,
    stateDir,
    requestCounter: counter,
    events: {
      functionOutput: counter.events.functionOutput,
      delivery: (d) => {
        if (d.outcome !== 'ok') return;
        done.set(d.eventId, epochNow());
        trace.invocationMs.set(d.eventId, d.ms);
      },
      route: (r) => {
        const id = (r.event.detail as { metadata?: { eventId?: unknown } } | undefined)?.metadata?.eventId;
        if (r.outcome === 'delivered' && typeof id === 'string') trace.routed.set(id, epochNow());
      },
    },
  });
  const top = await startCeilingDynamo();
  try {
    const polling = pollingOf(runtime, RPC);
    // Warm the function process, then the whole path at the fixed load, before measuring.
    await drive(runtime, done, 20, 0);
    const warm = await driveFromOutside(runtime, done, FIXED_RATE * WARM_SECONDS, FIXED_RATE, {
      start: () => {},
    });
    const worker = runtime.model.functions.find((f) => f.environment.ER_RPC === RPC)?.name ?? '';
    let invocationsBefore = 0;
    let cpuBefore = { own: 0, functions: 0 };
    const fixed = await driveFromOutside(
      runtime,
      done,
      FIXED_RATE * FIXED_SECONDS,
      FIXED_RATE,
      {
        start: (publisherPid) => {
          invocationsBefore = counter.invocations(worker);
          cpuBefore = { own: ownCpuMs(), functions: childrenCpuMs(publisherPid) };
        },
      },
      trace,
    );
    const cpu = {
      own: (ownCpuMs() - cpuBefore.own) / Math.max(1, fixed.deliveries),
      functions: (childrenCpuMs(fixed.publisherPid) - cpuBefore.functions) / Math.max(1, fixed.deliveries),
      publisher: fixed.publisherCpuMs / Math.max(1, fixed.deliveries),
    };
    const fixedFill = fixed.deliveries / Math.max(1, counter.invocations(worker) - invocationsBefore);
    const load = loadavg()[0] ?? 0;
    const fixedRuns: Phase[] = [fixed];
    while (fixedRuns.length < FIXED_RUNS)
      fixedRuns.push(
        await driveFromOutside(runtime, done, FIXED_RATE * FIXED_SECONDS, FIXED_RATE, { start: () => {} }),
      );
    const rate = (p: Phase) => p.deliveries / p.seconds;
    const saturated: Phase[] = [];
    const ceilings: number[] = [];
    // Interleaved, the order flipping every run, so a busy moment of the machine hits both sides.
    for (let i = 0; i < RUNS; i++) {
      const e2e = async () => saturated.push(await drive(runtime, done, SATURATION_EVENTS, 0));
      const bound = async () => ceilings.push(await ceiling(top.endpoint, CEILING_DELIVERIES, polling));
      if (i % 2 === 0) {
        await e2e();
        await bound();
      } else {
        await bound();
        await e2e();
      }
    }
    await runtime.close();
    await top.close();
    const memory = await queuedMemory(app.dir, QUEUED_MESSAGES);
    const rates = saturated.map(rate);
    const ratios = rates.map((r, i) => r / (ceilings[i] as number));
    const whole = (v: number) => v.toFixed(0);
    console.log(`example app, ${EVENT} -> ${RPC} (one delivery per event), durable state`);
    console.log(
      `  fixed load ${FIXED_RATE}/s for ${FIXED_SECONDS}s: ${fixed.deliveries} deliveries, ${rate(fixed).toFixed(0)}/s, publish->handled p50 ${fixed.p50.toFixed(0)} ms, p99 ${fixed.p99.toFixed(0)} ms; p99 of ${FIXED_RUNS} such runs ${spread(
        fixedRuns.map((p) => p.p99),
        (v) => v.toFixed(0),
      )} ms (median (min-max); goal p99 <= 50 ms); ${fixedFill.toFixed(1)} messages per invocation; the ${WARM_SECONDS} s before it (warm-up, not counted): p50 ${warm.p50.toFixed(0)} ms, p99 ${warm.p99.toFixed(0)} ms`,
    );
    console.log(`    stages at that load (the first run): ${fixed.stages}`);
    console.log(
      `    CPU per delivery at that load (the first run): runtime ${cpu.own.toFixed(2)} ms (HTTP APIs, bus, queues and journal, DynamoDB), function processes ${cpu.functions.toFixed(2)} ms (worker, SDK, IPC), publisher ${cpu.publisher.toFixed(2)} ms (its own process: SDK client, signing); ${((FIXED_RATE * (cpu.own + cpu.functions + cpu.publisher)) / 1000).toFixed(2)} of ${availableParallelism()} cores at ${FIXED_RATE}/s; load average ${load.toFixed(1)}`,
    );
    console.log(
      `  saturation (${SATURATION_EVENTS} events, PutEvents of 10), ${RUNS} runs: ${spread(rates, whole)} deliveries/s, publish->handled p50 ${spread(
        saturated.map((p) => p.p50),
        whole,
      )} ms, p99 ${spread(
        saturated.map((p) => p.p99),
        whole,
      )} ms`,
    );
    console.log(
      `  ceiling (dynalite, claim + complete, no routing; ${polling.pollers} pollers x batches of ${polling.batch}, ${DEFAULT_WORKER_OPTIONS.concurrency} records at a time, client in its own process), ${RUNS} runs interleaved: ${spread(ceilings, whole)} deliveries/s`,
    );
    console.log(
      `  end to end / ceiling: ${spread(ratios, (v) => `${(v * 100).toFixed(0)}%`)} (median (min-max) of the ${RUNS} pairs; goal >= 90%)`,
    );
    console.log(
      `  RSS of \`event-router dev\`: ${mb(memory.idle)} idle, ${mb(memory.loaded)} with ${QUEUED_MESSAGES.toLocaleString('en')} queued messages (queued in ${memory.seconds.toFixed(1)} s, ${(QUEUED_MESSAGES / memory.seconds).toFixed(0)} msg/s)`,
    );
  } finally {
    await runtime.close().catch(() => {});
    await top.close().catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
    app.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
