/**
 * The client side of the end-to-end benchmark's ceiling, run in its own process as a worker's function
 * process is: per delivery the worker's claim and completion (DeliveryStore, the same two conditional
 * writes), driven the way the runtime drives a worker: `pollers` batches of `batch` deliveries in
 * flight, each batch's deliveries `inBatch` at a time. Prints `{"rate": deliveries/s}` on its last line.
 *
 * `node --import tsx bench/ceiling-client.ts <endpoint> <table> <deliveries> <pollers> <batch> <inBatch>`
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../common/concurrency.ts';
import { DeliveryStore } from '../functions/commons/deliveries.ts';

const [endpoint = '', table = '', total = '0', pollers = '5', batch = '10', inBatch = '10'] =
  process.argv.slice(2);
const settings = {
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
};
const client = new DynamoDBClient(settings);
// As the worker's clients are made (functions/commons/clients.ts): the per-record requests through a
// client that resolves its middleware once, so the ceiling's client costs what the worker's does.
const store = new DeliveryStore(
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
  table,
  19 * 24 * 3600,
  new DynamoDBClient({ ...settings, cacheMiddleware: true }),
);

async function deliver(): Promise<void> {
  const key = { eventId: randomUUID(), rpc: 'ReceiptService/LinkReceipt' };
  const claim = await store.claim(key, {
    eventName: 'receipt.uploaded',
    correlationId: key.eventId,
    now: Date.now(),
    lockMs: 30_000,
    payloadHash: 'h',
    maxRuns: 5,
  });
  if (claim.kind !== 'claimed') throw new Error(`ceiling: claim of a new delivery answered ${claim.kind}`);
  await store.complete(key, claim.attempt, '{"linked":true}', Date.now());
}

async function drive(count: number): Promise<number> {
  const batches = Math.ceil(count / Number(batch));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Number(pollers) }, async () => {
      while (next < batches) {
        next++;
        await mapWithConcurrency(Array.from({ length: Number(batch) }), Number(inBatch), deliver);
      }
    }),
  );
  return (batches * Number(batch)) / ((performance.now() - started) / 1000);
}

await drive(100); // warm up: JIT, connections
console.log(JSON.stringify({ rate: await drive(Number(total)) }));
client.destroy();
