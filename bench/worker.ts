/**
 * Worker benchmark: what the idempotent worker costs on top of the handler.
 *
 * - deliveries/s through the worker (dynalite) next to calling the handler function directly;
 * - DynamoDB requests per first delivery and per duplicate (counted at dynalite's HTTP server);
 * - bundle size of an example handler, minified with the AWS SDK external (as the construct builds it);
 * - cold module-load time of that bundle in a fresh Node process.
 *
 * `npm run bench -- worker`, or alone: `node --import tsx bench/worker.ts`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import type { WorkerConfig } from '../functions/commons/config.ts';
import { DeliveryStore } from '../functions/commons/deliveries.ts';
import { RECORD_RESERVE_MS } from '../functions/commons/remote-budget.ts';
import type { RpcContext } from '../functions/commons/rpc.ts';
import { handler } from '../functions/rpcs/notification-service/notify-cardholder.ts';
import { EVENT_SCHEMAS } from '../generated/events.ts';
import { clientFor, createDeliveriesTable, type LocalDynamo } from '../test/support/dynalite.ts';
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

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RPC = 'NotificationService/NotifyCardholder';
const EVENT = 'card.transaction.authorized';
const ENTRY = 'functions/rpcs/notification-service/notify-cardholder.ts';
const DELIVERIES = 2000;
const BATCH = 10;
/** Invocations in flight at once (as several Lambda instances would be). */
const INVOCATIONS = 4;
const BUNDLE_GOAL_KB = 150;

/**
 * dynalite in its own process (as DynamoDB is remote to a Lambda), with the deliveries table.
 * Requests are counted on the client, one per HTTP request sent (the client makes no retries).
 */
async function startDynaliteProcess(): Promise<LocalDynamo> {
  const script =
    "const s=require('dynalite')({createTableMs:0,deleteTableMs:0,updateTableMs:0});" +
    "s.listen(0,'127.0.0.1',()=>console.log(s.address().port));";
  const child = spawn(process.execPath, ['-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = clientFor(endpoint);
  let sent = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      sent++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countDynamoRequests' },
  );
  await createDeliveriesTable(client, 'deliveries');
  return {
    endpoint,
    tableName: 'deliveries',
    client,
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    requests: () => sent,
    close: async () => {
      client.destroy();
      child.removeAllListeners('exit');
      child.kill();
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/**
 * What recording an outcome costs after a run (the time a remote call must leave, see
 * functions/commons/remote-budget.ts): the COMPLETED write, and the DEAD write that follows a dead
 * letter's send, each one conditional UpdateItem, timed one at a time.
 */
async function recordingMs(dynamo: LocalDynamo): Promise<{ complete: number[]; dead: number[] }> {
  const store = new DeliveryStore(dynamo.doc, dynamo.tableName, 3600);
  const complete: number[] = [];
  const dead: number[] = [];
  for (let i = 0; i < 400; i++) {
    const key = { eventId: randomUUID(), rpc: RPC };
    const claim = await store.claim(key, {
      eventName: EVENT,
      now: Date.now(),
      lockMs: 60_000,
      payloadHash: 'h',
      maxRuns: 5,
    });
    if (claim.kind !== 'claimed') throw new Error(`recording: claim answered ${claim.kind}`);
    const started = performance.now();
    if (i % 2 === 0) {
      await store.complete(key, claim.attempt, '"ok"', Date.now());
      complete.push(performance.now() - started);
    } else {
      await store.markDead(key, {
        error: { name: 'E', message: 'm', retryable: false },
        now: Date.now(),
        deadLetterId: randomUUID(),
        fence: { kind: 'claim', attempt: claim.attempt },
        eventName: EVENT,
      });
      dead.push(performance.now() - started);
    }
  }
  return { complete, dead };
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

/** Sends `records` through `worker` in batches, `INVOCATIONS` at a time; returns deliveries/s. */
async function throughWorker(
  worker: (records: SQSRecord[]) => Promise<{ batchItemFailures: unknown[] }>,
  records: SQSRecord[],
): Promise<{ rate: number; failures: number }> {
  const batches: SQSRecord[][] = [];
  for (let i = 0; i < records.length; i += BATCH) batches.push(records.slice(i, i + BATCH));
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: INVOCATIONS }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] as SQSRecord[];
        failures += (await worker(batch)).batchItemFailures.length;
      }
    }),
  );
  return { rate: records.length / ((performance.now() - started) / 1000), failures };
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
  const dynamo = await startDynaliteProcess();
  try {
    const config: WorkerConfig = {
      rpc: RPC,
      deliveriesTable: dynamo.tableName,
      dlqUrl: 'http://127.0.0.1:4566/111122223333/bench-dlq',
      maxReceiveCount: 5,
      recordRetentionSeconds: 19 * 24 * 3600,
      eventSchemas: { [EVENT]: EVENT_SCHEMAS[EVENT] },
      remoteTimeoutMs: 1000,
    };
    const wired = handler.withDependencies({
      dynamo: dynamo.doc,
      queue: new RecordingQueue(),
      eventBus: new RecordingBus(),
      logger: quietLogger(),
      config,
    });
    const context = lambdaContext(30_000);
    const worker = (records: SQSRecord[]) => wired(sqsEvent(records), context);
    const records = Array.from({ length: DELIVERIES }, () => {
      const eventId = randomUUID();
      return sqsRecord(queueMessage(RPC, busEvent(EVENT, authorizedPayload(eventId), { eventId })));
    });

    // Warm up (JIT, connections) on other deliveries, then measure.
    await throughWorker(
      worker,
      records.slice(0, 100).map((r) => sqsRecord(r.body.replace(/"eventId":"/, '"eventId":"warm-'))),
    );
    const direct = await directRate();
    // The worker's own CPU cost: the same pipeline over a DynamoDB stub that answers at once.
    const stub = {
      send: async () => ({ Attributes: { attempts: 1 } }),
    } as unknown as DynamoDBDocumentClient;
    const stubbed = wired.withDependencies({ dynamo: stub });
    const cpuOnly = await throughWorker((batch) => stubbed(sqsEvent(batch), context), records.slice(0, 1000));
    const before = dynamo.requests();
    const first = await throughWorker(worker, records);
    const firstRequests = (dynamo.requests() - before) / DELIVERIES;
    const beforeDup = dynamo.requests();
    const duplicate = await throughWorker(
      worker,
      records.map((r) => sqsRecord(r.body)),
    );
    const duplicateRequests = (dynamo.requests() - beforeDup) / DELIVERIES;
    const recording = await recordingMs(dynamo);

    const code = await bundleHandler(ENTRY, { [EVENT]: EVENT_SCHEMAS[EVENT] });
    const file = writeBundle('bench-notify-cardholder.mjs', code);
    const loadMs = coldImportMs(file, false);
    const ownMs = coldImportMs(file, true);
    const kb = code.length / 1024;
    const remoteKb =
      (await bundleHandler('functions/remote-rpc/index.ts', { [EVENT]: EVENT_SCHEMAS[EVENT] })).length / 1024;

    const rows: [string, string, string][] = [
      ['handler called directly', `${Math.round(direct).toLocaleString('en-US')} deliveries/s`, ''],
      [
        'through the worker (dynalite, own process)',
        `${Math.round(first.rate)} deliveries/s`,
        `batches of ${BATCH}, ${INVOCATIONS} invocations in flight`,
      ],
      [
        'overhead',
        `x${Math.round(direct / first.rate)} (${(1000 / first.rate - 1000 / direct).toFixed(2)} ms/delivery)`,
        'ratio direct / worker',
      ],
      [
        'worker over an instant DynamoDB stub',
        `${Math.round(cpuOnly.rate).toLocaleString('en-US')} deliveries/s`,
        `worker CPU only: ${(1000 / cpuOnly.rate).toFixed(3)} ms/delivery`,
      ],
      [
        'duplicates through the worker',
        `${Math.round(duplicate.rate)} deliveries/s`,
        'acknowledged, not run',
      ],
      ['DynamoDB requests, first delivery', firstRequests.toFixed(2), 'goal 2 (claim + complete)'],
      [
        'recording an outcome (p50 / p99)',
        `${percentile(recording.complete, 0.5).toFixed(1)} / ${percentile(recording.complete, 0.99).toFixed(1)} ms COMPLETED, ${percentile(recording.dead, 0.5).toFixed(1)} / ${percentile(recording.dead, 0.99).toFixed(1)} ms DEAD`,
        `one write each (a dead letter adds one SQS send); the remote call keeps ${RECORD_RESERVE_MS} ms`,
      ],
      [
        'DynamoDB requests, duplicate',
        duplicateRequests.toFixed(2),
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
    if (first.failures > 0 || duplicate.failures > 0)
      rows.push(['records returned to the queue', `${first.failures} + ${duplicate.failures}`, 'expected 0']);
    const width = Math.max(...rows.map(([name]) => name.length));
    const valueWidth = Math.max(...rows.map(([, value]) => value.length));
    console.log(`worker: ${ENTRY}, ${DELIVERIES} deliveries`);
    for (const [name, value, note] of rows)
      console.log(`  ${name.padEnd(width)}  ${value.padEnd(valueWidth)}  ${note}`);
  } finally {
    await dynamo.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
