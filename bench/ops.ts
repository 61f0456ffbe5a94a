/**
 * Benchmark of the ops module (lib/ops) on the local runtime (in memory): failure grouping of a DLQ of
 * 10,000 dead letters in four failure groups, read two ways: from the DLQ (one reading pass: seconds,
 * messages read per second, how long a message stayed hidden at most) and from the sparse index of DEAD
 * records (Query pages, nothing hidden), then the bulk redrive of the largest group at the highest
 * rate `--rate` accepts (500/s, as a message move task) and of the rest unthrottled (messages/s).
 *
 * Run alone: `node --import tsx bench/ops.ts`; or with the others: `npm run bench`.
 */
import { pathToFileURL } from 'node:url';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { names } from '../lib/naming.ts';
import { Operations } from '../lib/ops/operations.ts';
import { queueBody, SPEC, startDashboardHarness } from '../test/dashboard/harness.ts';

const RPC = 'BillingService/ChargeCard';
const MESSAGES = 10_000;
/** Share of each failure among the dead letters. */
const FAILURES = [
  { type: 'Timeout', message: (i: number) => `ledger did not answer in ${3000 + (i % 50)} ms`, share: 0.6 },
  { type: 'NotFound', message: (i: number) => `account acct-${i} not found`, share: 0.25 },
  { type: 'ValidationError', message: () => 'payload.currency must match pattern "^[A-Z]{3}$"', share: 0.1 },
  {
    type: 'RemoteError',
    message: (i: number) => `HTTP 503 from https://ledger.internal/v1/entries/${i}`,
    share: 0.05,
  },
];

function failureOf(i: number) {
  let at = (i % 100) / 100;
  for (const f of FAILURES) {
    if (at < f.share) return f;
    at -= f.share;
  }
  return FAILURES[0] as (typeof FAILURES)[number];
}

export async function run(): Promise<void> {
  const h = await startDashboardHarness(SPEC, { deadIndex: true });
  const config = {
    endpoint: h.runtime.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const sqs = new SQSClient(config);
  const dynamodb = new DynamoDBClient(config);
  try {
    const ops = new Operations({ spec: SPEC, sqs, dynamodb, endpoint: h.runtime.url, operator: 'bench' });
    const dlq = await h.queueUrl(RPC, 'dlq');
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    for (let i = 0; i < MESSAGES; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlq,
          Entries: Array.from({ length: 10 }, (_, j) => {
            const n = i + j;
            const f = failureOf(n);
            return {
              Id: String(j),
              MessageBody: queueBody(RPC, 'order.placed', `ord-${n}`, { orderId: `o-${n}`, total: n }),
              MessageAttributes: {
                ErrorType: text(f.type),
                ErrorMessage: text(f.message(n)),
                Rpc: text(RPC),
                EventId: text(`ord-${n}`),
                Attempts: text('5'),
                FailedAt: text(new Date(Date.UTC(2026, 10, 25, 10) + n * 1000).toISOString()),
                DeadLetterId: text(`dl-${n}`),
              },
            };
          }),
        }),
      );
    }
    // From the DLQ: no DEAD records yet, so the DLQ holds more than the index and is read in a pass
    let started = performance.now();
    const report = await ops.failureGroups({ rpcs: [RPC] });
    const groupSeconds = (performance.now() - started) / 1000;
    const read = report.rpcs[0]?.read ?? 0;
    console.log(
      `failure groups of a DLQ of ${MESSAGES.toLocaleString('en')} dead letters (local runtime, in memory)`,
    );
    console.log(
      `  from the DLQ, one reading pass: ${groupSeconds.toFixed(1)} s, ${(read / groupSeconds).toFixed(0)} messages/s, ${read.toLocaleString('en')} read (${report.rpcs[0]?.complete ? 'complete' : 'partial'}), ${report.groups.length} groups (${report.groups.map((g) => `${g.errorType} ${g.count}`).join(', ')}); no message hidden longer than the pass`,
    );
    // From the index: the same dead letters as the worker records them (DEAD, deadRpc, deadAt, lastError)
    const table = names.deliveriesTableName({ app: SPEC.app.name, stage: SPEC.app.stage });
    for (let i = 0; i < MESSAGES; i += 25) {
      await dynamodb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [table]: Array.from({ length: 25 }, (_, j) => {
              const n = i + j;
              const f = failureOf(n);
              return {
                PutRequest: {
                  Item: {
                    eventId: { S: `ord-${n}` },
                    rpc: { S: RPC },
                    status: { S: 'DEAD' },
                    deadRpc: { S: RPC },
                    deadAt: { N: String(Date.UTC(2026, 10, 25, 10) + n * 1000) },
                    eventName: { S: 'order.placed' },
                    attempts: { N: '5' },
                    deadLetterId: { S: `dl-${n}` },
                    lastError: {
                      M: { name: { S: f.type }, message: { S: f.message(n) }, retryable: { BOOL: false } },
                    },
                  },
                },
              };
            }),
          },
        }),
      );
    }
    started = performance.now();
    const indexed = await ops.failureGroups({ rpcs: [RPC] });
    const indexSeconds = (performance.now() - started) / 1000;
    const fromIndex = indexed.rpcs[0]?.read ?? 0;
    console.log(
      `  from the index of DEAD records (${indexed.rpcs[0]?.source}): ${indexSeconds.toFixed(1)} s, ${(fromIndex / indexSeconds).toFixed(0)} records/s, ${fromIndex.toLocaleString('en')} read, ${indexed.groups.length} groups; nothing hidden, no DLQ pass`,
    );
    const [largest, ...rest] = report.groups;
    if (!largest) throw new Error('no group');
    started = performance.now();
    const limited = await ops.redriveSet(RPC, await ops.groupMessageIds(largest), {
      rate: 500,
      what: 'bench',
    });
    const limitedSeconds = (performance.now() - started) / 1000;
    console.log(
      `  redrive of the ${largest.errorType} group at --rate 500: ${limited.moved.length.toLocaleString('en')} moved in ${limitedSeconds.toFixed(1)} s, ${(limited.moved.length / limitedSeconds).toFixed(0)} messages/s`,
    );
    started = performance.now();
    let moved = 0;
    for (const g of rest) moved += (await ops.redriveSet(RPC, g.messageIds, { what: 'bench' })).moved.length;
    const freeSeconds = (performance.now() - started) / 1000;
    console.log(
      `  redrive of the other ${rest.length} groups unthrottled: ${moved.toLocaleString('en')} moved in ${freeSeconds.toFixed(1)} s, ${(moved / freeSeconds).toFixed(0)} messages/s (copy + delete, batches of 10)`,
    );
  } finally {
    sqs.destroy();
    dynamodb.destroy();
    await h.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
