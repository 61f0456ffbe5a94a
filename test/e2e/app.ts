/**
 * End-to-end harness: the example router (event-router.yaml) synthesized by the real CDK app (the
 * assembly the test files share, test/support/example-assembly.ts) and run by the local runtime in
 * memory on a free port. Everything a test does goes
 * through what a user would use: the publish API over HTTP, SDK v3 clients and the CLI.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { DeliveryStatus } from '../../functions/commons/contracts.ts';
import type { EventStatus } from '../../functions/publish/status.ts';
import {
  filteredSubscriptionsByEvent,
  loadRouterSpec,
  subscriptionsByEvent,
} from '../../lib/codegen/spec.ts';
import type { RouterSpec } from '../../lib/config/types.ts';
import type { DeliveryLog } from '../../lib/local/lambda/poller.ts';
import type { RouteLog } from '../../lib/local/services/eventbridge/bus.ts';
import { names } from '../../lib/naming.ts';
import { CLIENT_CONFIG, eventually, type Harness, startHarness } from '../local/helpers.ts';
import { exampleAssembly } from '../support/example-assembly.ts';

export const ROOT = resolve(import.meta.dirname ?? '.', '..', '..');
export const ROUTER = join(ROOT, 'event-router.yaml');
const CLI = join(ROOT, 'bin', 'event-router.js');

/** How long a delivery may take before a wait gives up (generous: the machine is shared). */
export const WAIT_MS = 45_000;

/** One line a function wrote to stdout or stderr. */
export interface FunctionLine {
  readonly functionName: string;
  readonly line: string;
}

/** A delivery record as DynamoDB holds it (the fields the tests read). */
export interface StoredRecord {
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly completedAt?: number;
  readonly correlationId?: string;
  readonly result?: string;
}

/** The running example app and what it logged. */
export interface ExampleApp {
  readonly harness: Harness;
  readonly spec: RouterSpec;
  /** `<runtime>/api/events` */
  readonly api: string;
  readonly deliveries: DeliveryLog[];
  readonly routes: RouteLog[];
  readonly output: FunctionLine[];
  close(): Promise<void>;
}

/** Starts the runtime over the example app's shared assembly. */
export async function startExampleApp(): Promise<ExampleApp> {
  const loaded = loadRouterSpec(ROUTER);
  assert.ok(loaded.spec, loaded.errors);
  const spec = loaded.spec;
  const deliveries: DeliveryLog[] = [];
  const routes: RouteLog[] = [];
  const output: FunctionLine[] = [];
  const harness = await startHarness({
    cdkOut: await exampleAssembly(),
    retryDelaySeconds: 0,
    events: {
      delivery: (log) => deliveries.push(log),
      route: (log) => routes.push(log),
      functionOutput: (functionName, _stream, line) => output.push({ functionName, line }),
    },
  });
  assert.deepEqual(harness.runtime.model.problems, [], 'the runtime runs every resource it needs');
  return {
    harness,
    spec,
    api: `${harness.runtime.url}/api/events`,
    deliveries,
    routes,
    output,
    close: () => harness.close(),
  };
}

/** An HTTP answer with its body parsed as JSON (undefined when it is not JSON). */
export interface JsonResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
}

async function asJson<T>(response: Response): Promise<JsonResponse<T>> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body: body as T, text };
}

/** `POST /api/events` with `body` sent as is (a string) or as JSON. */
export async function post<T = unknown>(app: ExampleApp, body: unknown): Promise<JsonResponse<T>> {
  const response = await fetch(app.api, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return asJson<T>(response);
}

/** `GET /api/events/{eventId}`. */
export async function getStatus(app: ExampleApp, eventId: string): Promise<JsonResponse<EventStatus>> {
  const response = await fetch(`${app.api}/${encodeURIComponent(eventId)}`);
  return asJson<EventStatus>(response);
}

/** The RPCs an event must reach (YAML subscribers), and those of them whose content filter may drop it. */
export function subscribersOf(app: ExampleApp, event: string): { all: string[]; filtered: string[] } {
  return {
    all: subscriptionsByEvent(app.spec)[event] ?? [],
    filtered: filteredSubscriptionsByEvent(app.spec)[event] ?? [],
  };
}

/**
 * Polls `GET /api/events/{eventId}` until every RPC in `completed` is COMPLETED (and none is FAILED or
 * DEAD, which fails at once); returns that status.
 */
export async function waitForCompleted(
  app: ExampleApp,
  eventId: string,
  completed: readonly string[],
): Promise<EventStatus> {
  return eventually(
    async () => {
      const { status, body, text } = await getStatus(app, eventId);
      if (status === 404) return undefined;
      assert.equal(status, 200, text);
      const broken = body.rpcs.filter((rpc) => rpc.status === 'FAILED' || rpc.status === 'DEAD');
      assert.deepEqual(broken, [], `no delivery of ${eventId} fails`);
      const done = new Set(body.rpcs.filter((rpc) => rpc.status === 'COMPLETED').map((rpc) => rpc.rpc));
      return completed.every((rpc) => done.has(rpc)) ? body : undefined;
    },
    WAIT_MS,
    `${completed.join(', ')} to complete ${eventId}`,
  );
}

/** Reads one delivery record straight from the deliveries table (consistent read). */
export async function readRecord(
  app: ExampleApp,
  eventId: string,
  rpc: string,
): Promise<StoredRecord | undefined> {
  const { Item } = await app.harness.dynamodb.send(
    new GetItemCommand({
      TableName: names.deliveriesTableName({ app: app.spec.app.name, stage: app.spec.app.stage }),
      Key: { eventId: { S: eventId }, rpc: { S: rpc } },
      ConsistentRead: true,
    }),
  );
  if (!Item) return undefined;
  return {
    status: Item.status?.S as DeliveryStatus,
    attempts: Number(Item.attempts?.N ?? 0),
    ...(Item.completedAt?.N !== undefined ? { completedAt: Number(Item.completedAt.N) } : {}),
    ...(Item.correlationId?.S !== undefined ? { correlationId: Item.correlationId.S } : {}),
    ...(Item.result?.S !== undefined ? { result: Item.result.S } : {}),
  };
}

/** Waits until none of the RPCs' queues holds a message, visible or in flight (GetQueueAttributes). */
export async function waitForDrained(app: ExampleApp, rpcs: readonly string[]): Promise<void> {
  const { sqs } = app.harness;
  const ctx = { app: app.spec.app.name, stage: app.spec.app.stage };
  const urls = await Promise.all(
    rpcs.map(
      async (rpc) =>
        (await sqs.send(new GetQueueUrlCommand({ QueueName: names.queueName(ctx, rpc) }))).QueueUrl ?? '',
    ),
  );
  await eventually(
    async () => {
      for (const QueueUrl of urls) {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        if (
          Number(Attributes.ApproximateNumberOfMessages) !== 0 ||
          Number(Attributes.ApproximateNumberOfMessagesNotVisible) !== 0
        )
          return undefined;
      }
      return true;
    },
    WAIT_MS,
    `the queues of ${rpcs.join(', ')} to drain`,
  );
}

/** What a CLI run printed and its exit code. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The caller's environment with the AWS settings of the runtime (and no profile to pick up). */
function cliEnvironment(endpoint: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: CLIENT_CONFIG.region,
    AWS_ACCESS_KEY_ID: CLIENT_CONFIG.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CLIENT_CONFIG.credentials.secretAccessKey,
    NO_COLOR: '1',
  };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  return env;
}

/** Runs `node bin/event-router.js <args>` in the project root with the AWS settings pointing at the runtime. */
export function runCli(app: ExampleApp, args: readonly string[]): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: cliEnvironment(app.harness.runtime.url),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
