/**
 * The publisher of the end-to-end benchmark's fixed load, in its own process as a real publisher is
 * (its SDK client, signing and HTTP then do not share the runtime's event loop). Warms up (JIT,
 * connection), prints `ready`, waits for a line on stdin, then publishes `total` events, one per
 * PutEvents, at `perSecond`, up to 64 requests in flight. Prints on its last line
 * `{"sent": [[eventId, epoch ms], ...], "cpuMs": ...}` (the time each PutEvents was sent, on the clock
 * `performance.timeOrigin + performance.now()`, which the runtime's process reads too).
 *
 * `node --import tsx bench/publish-client.ts <endpoint> <bus> <total> <perSecond>`
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { publisherSource } from '../common/naming.ts';
import { detail } from './publish-detail.ts';

const [endpoint = '', bus = '', total = '0', perSecond = '100'] = process.argv.slice(2);
const events = new EventBridgeClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

async function put(id: string): Promise<void> {
  const out = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: bus,
          // receipt.uploaded's declared publisher: rules deliver only events from its source.
          Source: publisherSource('cardflow', 'MobileApp'),
          DetailType: 'receipt.uploaded',
          Detail: detail(id),
        },
      ],
    }),
  );
  if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
}

const now = () => performance.timeOrigin + performance.now();

for (let i = 0; i < 20; i++) await put(randomUUID());
console.log('ready');
await once(process.stdin, 'data');
const cpu = process.cpuUsage();
const sent: [string, number][] = [];
const count = Number(total);
const rate = Number(perSecond);
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < count) {
      const id = randomUUID();
      const due = started + (next * 1000) / rate;
      next++;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sent.push([id, now()]);
      await put(id);
    }
  }),
);
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ sent, cpuMs: (used.user + used.system) / 1000 }));
events.destroy();
process.stdin.destroy();
