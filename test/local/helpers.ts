/**
 * Test helpers: the runtime started in-process on port 0 with in-memory state over the fixture
 * assembly, and real AWS SDK v3 clients pointed at it.
 */

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
} from '@aws-sdk/client-eventbridge';
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryLog } from '../../lib/local/lambda/poller.ts';
import { LocalRuntime, type RuntimeOptions } from '../../lib/local/runtime/runtime.ts';
import type { RouteLog } from '../../lib/local/services/eventbridge/bus.ts';

export const FIXTURE_ASSEMBLY = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'assembly');

export const CLIENT_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export interface Harness {
  readonly runtime: LocalRuntime;
  readonly sqs: SQSClient;
  readonly events: EventBridgeClient;
  readonly dynamodb: DynamoDBClient;
  readonly deliveries: DeliveryLog[];
  /**
   * Every target delivery the bus made (or failed to make). PutEvents answers only once each target's
   * copy was sent, so after it answered these say which queues an event reached, and which not.
   */
  readonly routes: RouteLog[];
  close(): Promise<void>;
}

/**
 * Starts the runtime over the fixture assembly (or `cdkOut`) in memory on a free port. The delivery
 * and route logs are recorded, and passed on to `options.events` too.
 */
export async function startHarness(options: Partial<RuntimeOptions> = {}): Promise<Harness> {
  const deliveries: DeliveryLog[] = [];
  const routes: RouteLog[] = [];
  const { events: listeners = {}, ...rest } = options;
  const runtime = await LocalRuntime.start({
    cdkOut: FIXTURE_ASSEMBLY,
    port: 0,
    inMemory: true,
    retryDelaySeconds: 0,
    ...rest,
    events: {
      ...listeners,
      delivery: (log) => {
        deliveries.push(log);
        listeners.delivery?.(log);
      },
      route: (log) => {
        routes.push(log);
        listeners.route?.(log);
      },
    },
  });
  const config = { ...CLIENT_CONFIG, endpoint: runtime.url };
  const sqs = new SQSClient(config);
  const events = new EventBridgeClient(config);
  const dynamodb = new DynamoDBClient(config);
  return {
    runtime,
    sqs,
    events,
    dynamodb,
    deliveries,
    routes,
    async close() {
      sqs.destroy();
      events.destroy();
      dynamodb.destroy();
      await runtime.close();
    },
  };
}

/** Puts one `thing.happened` event with `eventId` and `payload` on the fixture assembly's bus. */
export function publishFixtureEvent(
  events: EventBridgeClient,
  eventId: string,
  payload: Record<string, unknown>,
): Promise<PutEventsCommandOutput> {
  return events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: 'test-dev-bus',
          Source: 'event-router.test',
          DetailType: 'thing.happened',
          Detail: JSON.stringify({ metadata: { eventId }, payload }),
        },
      ],
    }),
  );
}

/**
 * Writes a cloud assembly of one stack into `dir`: `template` (an object, or raw text such as a broken
 * file) as `<stack>.template.json`, and the manifest that names it.
 */
export function writeStackAssembly(dir: string, stack: string, template: object | string): void {
  writeFileSync(
    join(dir, `${stack}.template.json`),
    typeof template === 'string' ? template : JSON.stringify(template),
  );
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      version: '48.0.0',
      artifacts: {
        [stack]: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://unknown-account/unknown-region',
          properties: { templateFile: `${stack}.template.json`, stackName: stack },
        },
      },
    }),
  );
}

/** Receives (and deletes) messages from a queue until `count` arrived or `timeoutMs` passed. */
export async function drain(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  timeoutMs = 20_000,
): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    for (const m of Messages) {
      out.push(m);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return out;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
