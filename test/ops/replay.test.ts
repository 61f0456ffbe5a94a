/**
 * Replay through the real surface: the local runtime's bus, archive and replay API, the real
 * event-router worker (bundled as the function construct bundles it) and `event-router replay` run as
 * an operator runs it. A window holds a completed, a failed (due for its next attempt) and a dead
 * delivery of the chosen event to the chosen RPC, plus events the replay must not touch (before the
 * window, another event, another service's RPC). Completed and dead ones are skipped, the failed one
 * runs; `--rerun-completed` runs all three again as new attempts; a replay can be cancelled; the audit
 * records each.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeReplayCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { main } from '../../lib/cli/main.ts';
import { loadRouterSpec } from '../../lib/codegen/spec.ts';
import type { RouterSpec } from '../../lib/config/types.ts';
import { createDashboard } from '../../lib/local/dashboard/index.ts';
import { names } from '../../lib/naming.ts';
import { Operations } from '../../lib/ops/operations.ts';
import { planReplay } from '../../lib/ops/replay.ts';
import { planRouter } from '../../lib/plan/plan.ts';
import { eventually, type Harness, startHarness, writeStackAssembly } from '../local/helpers.ts';
import { deliveriesTableResource } from '../support/deliveries-table.ts';
import { workerFunctionResources, workerQueueResources } from '../support/worker-template.ts';
import { bundleAsset } from '../worker/support/bundle.ts';

const WORK = 'Svc/Work';
const OTHER = 'Mail/Other';
const CHARGED = 'card.charged';
const REFUNDED = 'card.refunded';
const SOURCE = 'event-router.replay.card-network';

const YAML = `app:
  name: replay
  stage: dev
publishers:
  CardNetwork:
    putsOnBus: true
services:
  Svc:
    rpcs:
      Work: { maxReceiveCount: 3 }
  Mail:
    rpcs:
      Other: {}
events:
  - name: ${CHARGED}
    publisher: CardNetwork
    schema: { type: object }
    subscribers:
      - id: ${WORK}
      - id: ${OTHER}
  - name: ${REFUNDED}
    publisher: CardNetwork
    schema: { type: object }
    subscribers:
      - id: ${WORK}
`;

/** The RPC: counts its runs per transaction; `mode: "dead"` fails for good while the ledger switch is off. */
const RPC_MODULE = `
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { defineRpc, NonRetryableError } from './functions/commons/rpc.ts';
const db = new DynamoDBClient({});
const TableName = process.env.ER_DELIVERIES_TABLE;
const work = async (payload) => {
  await db.send(new UpdateItemCommand({
    TableName,
    Key: { eventId: { S: 'runs#' + payload.tx }, rpc: { S: 'count' } },
    UpdateExpression: 'ADD n :one',
    ExpressionAttributeValues: { ':one': { N: '1' } },
  }));
  const on = await db.send(new GetItemCommand({ TableName, Key: { eventId: { S: 'switch' }, rpc: { S: 'ledger' } } }));
  if (payload.mode === 'dead' && !on.Item) throw new NonRetryableError('ledger is down for ' + payload.tx);
  return 'done';
};
export const handler = defineRpc({ '${CHARGED}': work, '${REFUNDED}': work });
`;

describe('replay of a window (CLI, runtime archive, real worker)', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'er-ops-replay-'));
  const file = join(dir, 'event-router.yaml');
  let spec: RouterSpec;
  let h: Harness;
  let ops: Operations;
  let table: string;
  const operatorBefore = process.env.EVENT_ROUTER_OPERATOR;

  async function writeAssembly(): Promise<void> {
    const ctx = { app: spec.app.name, stage: spec.app.stage };
    const plan = planRouter(spec);
    await bundleAsset(join(dir, 'cdk.out', 'asset.worker'), {
      contents: RPC_MODULE,
      sourcefile: 'replay-worker.ts',
    });
    const resources: Record<string, unknown> = {
      Deliveries: deliveriesTableResource(table),
      Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: plan.core.busName } },
      Archive: {
        Type: 'AWS::Events::Archive',
        Properties: {
          ArchiveName: plan.core.archiveName,
          SourceArn: { 'Fn::GetAtt': ['Bus', 'Arn'] },
          EventPattern: { account: [{ Ref: 'AWS::AccountId' }] },
          RetentionDays: 30,
        },
      },
    };
    plan.rpcs.forEach((r, i) => {
      Object.assign(
        resources,
        workerQueueResources(`R${i}`, {
          queueName: names.queueName(ctx, r.id),
          dlqName: names.dlqName(ctx, r.id),
        }),
      );
    });
    plan.rules.forEach((rule, i) => {
      resources[`Rule${i}`] = {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: rule.name,
          EventBusName: { Ref: 'Bus' },
          EventPattern: rule.pattern,
          Targets: rule.targets.map((t) => {
            const q = plan.rpcs.findIndex((r) => r.id === t.rpc);
            return {
              Id: t.id,
              Arn: { 'Fn::GetAtt': [`R${q}Queue`, 'Arn'] },
              InputTransformer: { InputTemplate: t.inputTemplate },
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': [`R${q}Dlq`, 'Arn'] } },
            };
          }),
        },
      };
    });
    const work = plan.rpcs.findIndex((r) => r.id === WORK);
    // Mail/Other has no worker: its queue keeps whatever reaches it.
    Object.assign(
      resources,
      workerFunctionResources('Work', {
        rpc: WORK,
        functionName: names.functionName(ctx, WORK),
        asset: 'asset.worker',
        queueId: `R${work}Queue`,
        dlqId: `R${work}Dlq`,
      }),
    );
    writeStackAssembly(join(dir, 'cdk.out'), 'replay-dev', { Resources: resources });
  }

  before(async () => {
    process.env.EVENT_ROUTER_OPERATOR = 'test:replay';
    writeFileSync(file, YAML);
    const loaded = loadRouterSpec(file);
    assert.ok(loaded.spec, JSON.stringify(loaded));
    spec = loaded.spec;
    table = names.deliveriesTableName({ app: spec.app.name, stage: spec.app.stage });
    await writeAssembly();
    h = await startHarness({ cdkOut: join(dir, 'cdk.out'), replayStartingMs: 1000 });
    assert.deepEqual(h.runtime.model.problems, []);
    ops = new Operations({
      spec,
      sqs: h.sqs,
      dynamodb: h.dynamodb,
      events: h.events,
      endpoint: h.runtime.url,
      operator: 'test:replay',
    });
  });
  after(async () => {
    if (operatorBefore === undefined) delete process.env.EVENT_ROUTER_OPERATOR;
    else process.env.EVENT_ROUTER_OPERATOR = operatorBefore;
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function publish(event: string, tx: string, mode: string, time?: Date): Promise<void> {
    const { FailedEntryCount } = await h.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: planRouter(spec).core.busName,
            Source: SOURCE,
            DetailType: event,
            ...(time ? { Time: time } : {}),
            Detail: JSON.stringify({
              metadata: {
                eventId: `ev-${tx}`,
                occurredAt: new Date().toISOString(),
                publisher: 'CardNetwork',
                schemaVersion: 1,
              },
              payload: { tx, mode },
            }),
          },
        ],
      }),
    );
    assert.equal(FailedEntryCount, 0);
  }

  async function runs(tx: string): Promise<number> {
    const { Item } = await h.dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { eventId: { S: `runs#${tx}` }, rpc: { S: 'count' } } }),
    );
    return Number(Item?.n?.N ?? 0);
  }

  async function record(tx: string, rpc = WORK) {
    const { Item } = await h.dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { eventId: { S: `ev-${tx}` }, rpc: { S: rpc } } }),
    );
    return { status: Item?.status?.S, attempts: Number(Item?.attempts?.N ?? 0) };
  }

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const { log, error } = console;
    console.log = (...parts: unknown[]) => out.push(parts.join(' '));
    console.error = (...parts: unknown[]) => err.push(parts.join(' '));
    try {
      const code = await main([...args, '--file', file, '--endpoint', h.runtime.url]);
      return { code, out: out.join('\n'), err: err.join('\n') };
    } finally {
      console.log = log;
      console.error = error;
    }
  }

  const otherDepth = async () => {
    const d = await ops.depth(names.queueName({ app: 'replay', stage: 'dev' }, OTHER));
    return 'visible' in d ? d.visible + d.inFlight : -1;
  };

  let from: string;

  it('replays only the window, event and RPC chosen: completed and dead skipped, failed run', async () => {
    // Given: before the window, an event of the chosen kind
    await publish(CHARGED, 'early', 'ok', new Date(Date.now() - 3_600_000));
    from = new Date(Date.now() - 60_000).toISOString();
    // in the window: a delivery that completes, one that dies, one that will have failed,
    // and an event of another kind to the same RPC
    await publish(CHARGED, 'ok', 'ok');
    await publish(CHARGED, 'dead', 'dead');
    await publish(CHARGED, 'failed', 'ok');
    await publish(REFUNDED, 'refund', 'ok');
    await eventually(
      async () => {
        const all = await Promise.all(['early', 'ok', 'dead', 'failed', 'refund'].map((tx) => record(tx)));
        return all.every((r) => r.status === 'COMPLETED' || r.status === 'DEAD') ? all : undefined;
      },
      30_000,
      'every delivery ended',
    );
    assert.equal((await record('dead')).status, 'DEAD');
    // The "failed" delivery's run failed and its next attempt is due (its message is gone: only a replay runs it now)
    await h.dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { eventId: { S: 'ev-failed' }, rpc: { S: WORK } },
        UpdateExpression: 'SET #s = :failed, retryAt = :zero, lastError = :error REMOVE completedAt',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':failed': { S: 'FAILED' },
          ':zero': { N: '0' },
          ':error': {
            M: { name: { S: 'Timeout' }, message: { S: 'ledger timed out' }, retryable: { BOOL: true } },
          },
        },
      }),
    );
    // and the ledger is back
    await h.dynamodb.send(
      new PutItemCommand({ TableName: table, Item: { eventId: { S: 'switch' }, rpc: { S: 'ledger' } } }),
    );
    const otherBefore = await otherDepth();
    assert.equal(otherBefore, 4, 'Mail/Other got the four card.charged events (no worker takes them)');

    // When the operator replays card.charged to Svc/Work over the window
    const run = await cli(
      'replay',
      '--from',
      from,
      '--to',
      'now',
      '--event',
      CHARGED,
      '--rpc',
      WORK,
      '--yes',
      '--name',
      'replay-dev-first',
      '--wait',
      '20',
    );

    // Then the output counts what the worker did: 3 replayed, the failed one ran, completed and dead skipped
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(run.out, /Replay replay-dev-first COMPLETED\./);
    assert.match(
      run.out,
      /Svc\/Work: replayed 3, ran 1, skipped 1 as completed, 1 as dead-lettered \(redrive their dead letters\)/,
    );
    assert.match(run.out, /rule replay-dev-card-charged-svc-1: card\.charged -> Svc\/Work/);
    assert.equal(await runs('ok'), 1, 'completed: not run again');
    assert.equal(await runs('dead'), 1, 'dead: not run by a replay (its dead letter waits for a redrive)');
    assert.equal(await runs('failed'), 2, 'failed: ran');
    assert.deepEqual(await record('failed'), { status: 'COMPLETED', attempts: 2 });
    assert.equal(await runs('early'), 1, 'before the window: not replayed');
    assert.equal(await runs('refund'), 1, 'another event: not replayed');
    assert.equal(await otherDepth(), otherBefore, "another service's RPC: its rule was not replayed to");
    const described = await h.events.send(new DescribeReplayCommand({ ReplayName: 'replay-dev-first' }));
    assert.equal(described.Destination?.FilterArns?.length, 1);
    assert.match(
      described.Destination?.FilterArns?.[0] ?? '',
      /:rule\/replay-dev-bus\/replay-dev-card-charged-svc-1$/,
    );
    assert.ok(described.EventLastReplayedTime instanceof Date);
  });

  it('--rerun-completed runs completed and dead deliveries again as new attempts, once per replay', async () => {
    const before = { ok: await record('ok'), dead: await record('dead') };
    const run = await cli(
      'replay',
      '--from',
      from,
      '--to',
      'now',
      '--event',
      CHARGED,
      '--rpc',
      WORK,
      '--rerun-completed',
      '--yes',
      '--name',
      'replay-dev-second',
      '--wait',
      '20',
    );
    assert.equal(run.code, 0, `${run.out}\n${run.err}`);
    assert.match(run.out, /Svc\/Work: replayed 3, ran 3, skipped 0 as completed/);
    assert.equal(await runs('ok'), 2);
    assert.equal(await runs('dead'), 2);
    assert.equal(await runs('failed'), 3);
    assert.deepEqual(await record('ok'), { status: 'COMPLETED', attempts: before.ok.attempts + 1 });
    assert.deepEqual(await record('dead'), { status: 'COMPLETED', attempts: before.dead.attempts + 1 });
    const status = await ops.replays.status('replay-dev-second');
    assert.equal(status.rerunCompleted, true);
    // And a second copy of that replay's event (SQS delivers at least once) is not a second re-run
    const { QueueUrl = '' } = await h.sqs.send(
      new GetQueueUrlCommand({
        QueueName: names.queueName({ app: spec.app.name, stage: spec.app.stage }, WORK),
      }),
    );
    await h.sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: JSON.stringify({
          rpc: WORK,
          event: {
            version: '0',
            id: 'copy-of-a-replayed-event',
            'detail-type': CHARGED,
            source: SOURCE,
            account: '000000000000',
            time: new Date().toISOString(),
            region: 'us-east-1',
            resources: [],
            'replay-name': 'replay-dev-second',
            detail: {
              metadata: {
                eventId: 'ev-ok',
                occurredAt: new Date().toISOString(),
                publisher: 'CardNetwork',
                schemaVersion: 1,
              },
              payload: { tx: 'ok', mode: 'ok' },
            },
          },
        }),
      }),
    );
    const skipped = (s: typeof status) => s.counts.find((c) => c.rpc === WORK)?.skippedCompleted ?? 0;
    await eventually(
      async () =>
        skipped(await ops.replays.status('replay-dev-second')) === skipped(status) + 1 ? true : undefined,
      20_000,
      'the copy counted as skipped (completed) on the replay',
    );
    assert.equal(await runs('ok'), 2, 'the copy was acknowledged, not run');
    assert.deepEqual(await record('ok'), { status: 'COMPLETED', attempts: before.ok.attempts + 1 });
  });

  it('an event carrying a replay-name the tool did not record is not a re-run', async () => {
    // A replay started outside the tool (no ops record): the dedup applies as usual
    const plan = planReplay(spec, { from: new Date(from), to: new Date(), events: [CHARGED], rpcs: [WORK] });
    const { ArchiveArn = '' } = await h.events.send(
      new (await import('@aws-sdk/client-eventbridge')).DescribeArchiveCommand({
        ArchiveName: plan.archiveName,
      }),
    );
    await h.events.send(
      new (await import('@aws-sdk/client-eventbridge')).StartReplayCommand({
        ReplayName: 'replay-dev-outside',
        EventSourceArn: ArchiveArn,
        EventStartTime: new Date(from),
        EventEndTime: new Date(),
        Destination: { Arn: ArchiveArn.replace(':archive/replay-dev-archive', ':event-bus/replay-dev-bus') },
      }),
    );
    await eventually(
      async () =>
        (await h.events.send(new DescribeReplayCommand({ ReplayName: 'replay-dev-outside' }))).State ===
        'COMPLETED'
          ? true
          : undefined,
      20_000,
      'the outside replay completed',
    );
    await eventually(
      async () => ((await ops.pendingIn([WORK])) === 0 ? true : undefined),
      20_000,
      'queue drained',
    );
    assert.equal(await runs('ok'), 2, 'not rerun');
    assert.equal(await runs('failed'), 3, 'not rerun');
  });

  it('the dashboard starts a replay and shows its progress through the same module', async () => {
    const dashboard = createDashboard({
      endpoint: h.runtime.url,
      region: 'us-east-1',
      spec,
      operator: 'test:dashboard',
    });
    const server = createServer((req, res) => {
      void dashboard(req, res).then((served) => {
        if (!served) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const started = await fetch(`${base}/_dashboard/api/replay`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ from, to: 'now', event: CHARGED, rpc: WORK }).toString(),
      });
      assert.equal(started.status, 202);
      const plan = (await started.json()) as { name: string; rules: Array<{ name: string }> };
      assert.deepEqual(
        plan.rules.map((r) => r.name),
        ['replay-dev-card-charged-svc-1'],
      );
      const done = await eventually(
        async () => {
          const s = (await (await fetch(`${base}/_dashboard/api/replays/${plan.name}`)).json()) as {
            state: string;
            pending: number;
            counts: Array<{ rpc: string; replayed: number; skippedCompleted: number }>;
          };
          return s.state === 'COMPLETED' && s.pending === 0 && s.counts[0]?.replayed === 3 ? s : undefined;
        },
        20_000,
        'the replay completed and counted',
      );
      assert.equal(done.counts[0]?.skippedCompleted, 3, 'all three completed by now: skipped');
      const page = await (await fetch(`${base}/?replay=${plan.name}`)).text();
      assert.match(page, /Svc\/Work: replayed 3, ran 0, skipped 3 as completed/);
      const refused = await fetch(`${base}/_dashboard/api/replay`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ from: 'now', to: '1h' }).toString(),
      });
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { error: string }).error, /must be before --to/);
    } finally {
      dashboard.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('cancels a replay; a refused replay says why; the audit has each', async () => {
    const started = await ops.replays.start(
      planReplay(spec, {
        from: new Date(from),
        to: new Date(),
        events: [CHARGED],
        rpcs: [WORK],
        name: 'replay-dev-third',
      }),
    );
    assert.equal(started.state, 'STARTING');
    const cancelled = await cli('replay', 'cancel', 'replay-dev-third');
    assert.equal(cancelled.code, 0, cancelled.err);
    assert.match(cancelled.out, /Replay replay-dev-third: CANCELLING/);
    const final = await ops.replays.follow('replay-dev-third', { pollMs: 100, settleMs: 0 });
    assert.equal(final.state, 'CANCELLED');
    assert.equal(await runs('ok'), 2, 'nothing replayed (the dashboard replay skipped it as completed)');
    const again = await cli('replay', 'cancel', 'replay-dev-third');
    assert.equal(again.code, 1);
    assert.match(again.err, /could not be cancelled: IllegalStatusException/);
    const reused = await cli('replay', '--from', from, '--to', 'now', '--yes', '--name', 'replay-dev-first');
    assert.equal(reused.code, 1);
    assert.match(reused.err, /A replay named replay-dev-first was recorded before/);
    const backwards = await cli('replay', '--from', 'now', '--to', '1h', '--yes');
    assert.equal(backwards.code, 2);
    assert.match(backwards.err, /--from .* must be before --to/);
    const audit = await ops.auditTrail(50);
    const replays = audit.filter((a) => a.action === 'replay');
    assert.ok(
      replays.some(
        (a) =>
          a.what.startsWith('replay replay-dev-first') &&
          a.count === 3 &&
          a.outcome === 'ok' &&
          a.who === 'test:replay',
      ),
    );
    assert.ok(
      replays.some(
        (a) =>
          a.what.startsWith('replay replay-dev-second') &&
          /rerunning completed/.test(a.what) &&
          a.count === 3,
      ),
    );
    assert.ok(replays.some((a) => a.what === 'cancel of replay replay-dev-third' && a.outcome === 'ok'));
    assert.ok(replays.some((a) => a.what.startsWith('replay replay-dev-first') && a.outcome === 'failed'));
  });
});
