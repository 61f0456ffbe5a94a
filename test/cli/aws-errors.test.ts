/**
 * What `event-router publish | status | dlq` say when they get no answer: the real CLI, spawned against
 * a port nothing listens on, and without any endpoint, region or credentials.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classifyAwsError, explainAwsError } from '../../lib/cli/aws-errors.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SETTLED = JSON.stringify({ transactionId: 't-1', settledAmount: 100, currency: 'EUR' });

/** A port that was free a moment ago and has nothing listening on it now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

let home: string;

/** The environment of a machine with no AWS settings at all (no profile files either), plus `extra`. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  return { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...extra };
}

/** Runs `node bin/event-router.js ...args` in the project root. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'event-router.js'), ...args],
      { cwd: ROOT, env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

function oneLine(text: string): string {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  return lines[0] ?? '';
}

before(() => {
  home = mkdtempSync(join(tmpdir(), 'er-cli-home-'));
});
after(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('the CLI against an endpoint nothing listens on', () => {
  let url: string;
  before(async () => {
    url = `http://127.0.0.1:${await closedPort()}`;
  });

  it('dlq list names AWS_ENDPOINT_URL and `npm start`, prints no table header, exits 1', async () => {
    const result = await cli(['dlq', 'list'], bareEnv({ AWS_ENDPOINT_URL: url }));
    assert.equal(result.code, 1);
    assert.equal(result.out, '');
    const line = oneLine(result.err);
    assert.ok(
      line.startsWith(
        `Cannot reach ${url} (AWS_ENDPOINT_URL; connection refused): is \`npm start\` running?`,
      ),
      line,
    );
  });

  it('dlq peek and dlq redrive name the --endpoint they were given', async () => {
    for (const action of ['peek', 'redrive']) {
      const result = await cli(
        ['dlq', action, 'LedgerService/RecordTransaction', '--endpoint', url],
        bareEnv(),
      );
      assert.equal(result.code, 1, action);
      assert.equal(result.out, '', action);
      assert.ok(
        oneLine(result.err).startsWith(`Cannot reach ${url} (--endpoint; connection refused):`),
        action,
      );
    }
  });

  it('status says the same, in one line', async () => {
    const result = await cli(['status', 'some-event-id'], bareEnv({ AWS_ENDPOINT_URL: url }));
    assert.equal(result.code, 1);
    assert.match(
      oneLine(result.err),
      /^Cannot reach http:\/\/127\.0\.0\.1:\d+ \(AWS_ENDPOINT_URL; connection refused\): is `npm start` running\?/,
    );
  });

  it('publish says the same after its retries, in one line', async () => {
    const result = await cli(['publish', 'card.transaction.settled', SETTLED, '--endpoint', url], bareEnv());
    assert.equal(result.code, 1);
    assert.equal(result.out, '');
    assert.ok(oneLine(result.err).startsWith(`Cannot reach ${url} (--endpoint; connection refused):`));
  });
});

describe('the CLI with no endpoint, region or credentials', () => {
  it('dlq list says no region was found and how to point at the local runtime', async () => {
    const result = await cli(['dlq', 'list'], bareEnv());
    assert.equal(result.code, 1);
    assert.equal(result.out, '');
    const line = oneLine(result.err);
    assert.match(line, /^No AWS region found \(AWS_ENDPOINT_URL is not set/);
    assert.match(line, /run `npm start` and export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:4010/);
  });

  it('status with a region but no credentials says no credentials were found', async () => {
    const result = await cli(['status', 'some-event-id'], bareEnv({ AWS_REGION: 'us-east-1' }));
    assert.equal(result.code, 1);
    const line = oneLine(result.err);
    assert.match(line, /^No AWS credentials found \(AWS_ENDPOINT_URL is not set/);
    assert.match(line, /export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:4010/);
  });
});

describe('classifyAwsError / explainAwsError', () => {
  it('finds a network code on the error, in its message or in its cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.deepEqual(classifyAwsError(refused), { kind: 'unreachable', reason: 'connection refused' });
    assert.deepEqual(classifyAwsError({ name: 'Error', message: 'getaddrinfo ENOTFOUND nowhere.invalid' }), {
      kind: 'unreachable',
      reason: 'host not found',
    });
    assert.deepEqual(classifyAwsError(new Error('request failed', { cause: refused })), {
      kind: 'unreachable',
      reason: 'connection refused',
    });
  });

  it('leaves an AWS answer to the command', () => {
    const answer = Object.assign(new Error('The specified queue does not exist.'), {
      name: 'QueueDoesNotExist',
    });
    assert.equal(classifyAwsError(answer), undefined);
    assert.equal(explainAwsError(answer, 'http://127.0.0.1:4010', {}), undefined);
  });

  it('suggests checking the URL, not `npm start`, for an endpoint that is not this machine', () => {
    const line = explainAwsError(
      { name: 'Error', message: 'getaddrinfo ENOTFOUND runtime.example.invalid' },
      undefined,
      { AWS_ENDPOINT_URL: 'http://runtime.example.invalid:4010' },
    );
    assert.match(
      line ?? '',
      /^Cannot reach http:\/\/runtime\.example\.invalid:4010 \(AWS_ENDPOINT_URL; host not found\): check the URL/,
    );
  });
});
