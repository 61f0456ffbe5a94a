/**
 * A small project in a temporary directory under `.tmp/` (a router file and one handler under functions/) and
 * `event-router dev --watch` running on it in a child process, as a developer runs it: tests and the
 * reload benchmark edit the handler or the router file and wait on the lines dev prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { publisherSource } from '../../common/naming.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'event-router.js');
const RPC_MODULE = join(ROOT, 'generated', 'rpc.ts');

export const APP = 'devloop';
export const BUS = `${APP}-dev-bus`;
/** An event of the example router, so the handler type-checks against the generated payload types. */
export const EVENT = 'receipt.uploaded';
/** generated/rpc.ts of this repository (defineRpc bound to the example's events), which a test's handler imports. */
export const RPC_MODULE_PATH = RPC_MODULE;

/** The handler of `Echo/Say`: logs `marker` and returns it (its stored result); `field` is the payload field it reads. */
export function echoHandler(marker: string, field = 'receiptId'): string {
  return `import { defineRpc } from ${JSON.stringify(RPC_MODULE)};

export const handler = defineRpc(${JSON.stringify(EVENT)}, async (payload) => {
  console.log(JSON.stringify({ marker: ${JSON.stringify(marker)}, receipt: payload.${field} }));
  return { marker: ${JSON.stringify(marker)} };
});
`;
}

/** The router file: `receipt.uploaded` delivered to `Echo/Say`, plus `Echo/Listen` when `second` is set. */
export function routerYaml(second = false, sayOptions = ''): string {
  return `app:
  name: ${APP}
  stage: dev
publishers:
  Tests:
    iam: arn:aws:iam::*:role/tests
services:
  Echo:
    rpcs:
      Say:
        timeout: 10s
${sayOptions}${second ? '      Listen:\n        timeout: 10s\n' : ''}events:
  - name: ${EVENT}
    publisher: Tests
    schema:
      type: object
      required: [receiptId, transactionId, objectKey]
      properties:
        receiptId: { type: string }
        transactionId: { type: string }
        objectKey: { type: string }
    subscribers:
      - id: Echo/Say
${second ? '      - id: Echo/Listen\n' : ''}`;
}

export interface DevSession {
  readonly dir: string;
  readonly routerFile: string;
  readonly handlerFile: string;
  readonly url: string;
  /** Every line dev printed so far. */
  readonly lines: readonly string[];
  /** Resolves with the first line (printed after `from`, an index into `lines`) that `match` accepts. */
  waitFor(match: (line: string) => boolean, from?: number, timeoutMs?: number): Promise<string>;
  /** Publishes `receipt.uploaded` for receipt `receiptId`; resolves with the eventId. */
  publish(receiptId: string): Promise<string>;
  close(): Promise<void>;
}

/** Writes the project and starts `dev --watch --verbose` on it; resolves once it watches. */
export async function startDevSession(
  extraArgs: readonly string[] = [],
  options: { readonly handler?: string; readonly router?: string } = {},
): Promise<DevSession> {
  // Inside the repository (git-ignored): the CDK bundles the publish API only from under the project
  // root that holds the lock file, as in a real project.
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.tmp', 'devloop-'));
  const routerFile = join(dir, 'event-router.yaml');
  const handlerFile = join(dir, 'functions', 'rpcs', 'echo', 'say.ts');
  mkdirSync(dirname(handlerFile), { recursive: true });
  writeFileSync(handlerFile, options.handler ?? echoHandler('v1'));
  writeFileSync(join(dir, 'functions', 'rpcs', 'echo', 'listen.ts'), echoHandler('listen-v1'));
  writeFileSync(routerFile, options.router ?? routerYaml());

  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'dev', routerFile, '--watch', '--verbose', '--port', '0', '--in-memory', ...extraArgs],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      for (const wake of waiters) wake();
    });
  }
  let exited = false;
  child.on('exit', () => {
    exited = true;
    for (const wake of waiters) wake();
  });

  const waitFor = (match: (line: string) => boolean, from = 0, timeoutMs = 120_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.slice(from).find(match);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (exited) {
          done();
          reject(new Error(`dev exited. Its output:\n${lines.join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`Timed out waiting for a line. dev printed:\n${lines.join('\n')}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  try {
    await waitFor((line) => line.includes('Watching'), 0, 300_000);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const urlLine = lines.find((line) => /http:\/\/127\.0\.0\.1:\d+/.test(line)) ?? '';
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(urlLine)?.[0] ?? '';
  const events = new EventBridgeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    dir,
    routerFile,
    handlerFile,
    url,
    lines,
    waitFor,
    async publish(receiptId) {
      const eventId = randomUUID();
      const out = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: BUS,
              Source: publisherSource(APP, 'Tests'), // the declared publisher's source: rules match only it
              DetailType: EVENT,
              Detail: JSON.stringify({
                metadata: {
                  eventId,
                  occurredAt: new Date().toISOString(),
                  correlationId: eventId,
                  publisher: 'Tests',
                  schemaVersion: 1,
                },
                payload: { receiptId, transactionId: 'tx-1', objectKey: 'receipts/1.jpg' },
              }),
            },
          ],
        }),
      );
      if (out.FailedEntryCount !== 0) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
      return eventId;
    },
    async close() {
      events.destroy();
      if (!exited) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
