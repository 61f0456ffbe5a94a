/**
 * The framework apart from the example app: a second, tiny router (test/fixtures/second-router: one event,
 * one RPC with its own handler and its own generated binding) is validated, its generated files are
 * current, it is synthesized by the real CDK app through `event-router synth`, and the local runtime runs
 * it: a published event reaches its handler once and the delivery is COMPLETED.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { publisherSource } from '../../common/naming.ts';
import { synthesize } from '../../lib/local/assembly/synth.ts';
import { eventually, type Harness, startHarness } from '../local/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'event-router.js');
const ROUTER = join(ROOT, 'test', 'fixtures', 'second-router', 'event-router.yaml');
const RPC = 'GreetingService/RecordGreeting';

function cli(args: readonly string[]): { code: number | null; out: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('a second router built with the same framework', { timeout: 180_000 }, () => {
  let h: Harness;
  const outDir = mkdtempSync(join(tmpdir(), 'er-second-router-'));

  before(async () => {
    const code = await synthesize(ROUTER, outDir, { echo: false });
    assert.equal(code, 0, 'event-router synth succeeded');
    h = await startHarness({ cdkOut: outDir, retryDelaySeconds: 0 });
  });
  after(async () => {
    await h?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('validates, with its own handler made by its own generated defineRpc', () => {
    const { code, out } = cli(['validate', ROUTER]);
    assert.equal(code, 0, out);
    assert.match(out, /1 event, 1 RPC, 1 subscription/);
  });

  it('has generated files that match its router file', () => {
    const { code, out } = cli(['codegen', '--file', ROUTER, '--check']);
    assert.equal(code, 0, out);
    assert.match(out, /4 generated files are up to date/);
  });

  it('synthesizes into its own stacks and runs them with no problems', () => {
    const m = h.runtime.model;
    assert.deepEqual(m.problems, []);
    assert.equal(m.mappings.length, 1);
    assert.ok(
      m.functions.some((fn) => fn.environment.ER_RPC === RPC),
      `a worker for ${RPC} among ${m.functions.map((fn) => fn.environment.ER_RPC ?? '-').join(', ')}`,
    );
  });

  it('runs a published event through its handler once, and records the delivery COMPLETED', async () => {
    // Given the router running locally
    const eventId = randomUUID();
    // When the declared publisher puts greeting.sent on the bus
    const out = await h.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'hello-dev-bus',
            Source: publisherSource('hello', 'Greeter'),
            DetailType: 'greeting.sent',
            Detail: JSON.stringify({
              metadata: {
                eventId,
                occurredAt: new Date().toISOString(),
                correlationId: eventId,
                publisher: 'Greeter',
                schemaVersion: 1,
              },
              payload: { greetingId: 'g-1', text: 'hello from a second router' },
            }),
          },
        ],
      }),
    );
    assert.equal(out.FailedEntryCount, 0, JSON.stringify(out.Entries));

    // Then the handler ran once and its result is stored with the COMPLETED record
    const item = await eventually(
      async () => {
        const result = await h.dynamodb.send(
          new QueryCommand({
            TableName: 'hello-dev-deliveries',
            KeyConditionExpression: 'eventId = :id',
            ExpressionAttributeValues: { ':id': { S: eventId } },
          }),
        );
        const record = result.Items?.find((i) => i.rpc?.S === RPC);
        return record?.status?.S === 'COMPLETED' ? record : undefined;
      },
      30_000,
      'the COMPLETED delivery record',
    );
    assert.equal(item.attempts?.N, '1');
    assert.deepEqual(JSON.parse(item.result?.S ?? 'null'), { recorded: 'g-1', words: 5 });
    const deliveries = await eventually(
      () => {
        const mine = h.deliveries.filter((d) => d.eventId === eventId);
        return mine.length > 0 ? mine : undefined;
      },
      10_000,
      'the delivery log line',
    );
    assert.equal(deliveries.length, 1, JSON.stringify(deliveries));
    assert.equal(deliveries[0]?.rpc, RPC);
    assert.equal(deliveries[0]?.outcome, 'ok');
  });
});
