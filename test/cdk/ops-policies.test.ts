/**
 * Least privilege for ops, checked against what the ops code really calls: every operation of lib/ops
 * (which the CLI commands and the dashboard call) runs against the local runtime with SDK clients that
 * record each request; the recorded calls, as IAM actions per resource (DLQ, RPC queue, table), must be
 * exactly what the policies grant: the viewer policy for the read-only commands, the operator policy
 * plus the router's ops records policy for all of them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { REPLAY_PARTITION } from '../../common/replays.ts';
import {
  operatorStatements,
  opsRecordsStatements,
  replayStatements,
  viewerStatements,
} from '../../lib/constructs/dlq-operator-policy.ts';
import { names } from '../../lib/naming.ts';
import { AUDIT_PARTITION, EDIT_NOTE_ATTRIBUTES } from '../../lib/ops/audit.ts';
import { Operations } from '../../lib/ops/operations.ts';
import { planReplay } from '../../lib/ops/replay.ts';
import { planRouter } from '../../lib/plan/plan.ts';
import { type DashboardHarness, SPEC, startDashboardHarness } from '../dashboard/harness.ts';
import { type Harness, startHarness, writeStackAssembly } from '../local/helpers.ts';
import { deliveriesTableResource } from '../support/deliveries-table.ts';

const RPC = 'BillingService/ChargeCard';
const TABLE = 'shop-test-deliveries';
/** Batch calls are authorized as their single-message action. */
const IAM_ACTION: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

type Grants = Map<string, Set<string>>;

function add(grants: Grants, resource: string, action: string): void {
  grants.set(resource, (grants.get(resource) ?? new Set()).add(action));
}

/** What a policy grants, per resource kind (`dlq`, `queue`, `table`, `*`). */
function granted(statements: iam.PolicyStatement[]): Grants {
  const out: Grants = new Map();
  for (const s of statements) {
    const json = s.toStatementJson() as { Action: string | string[]; Resource: string | string[] };
    for (const resource of [json.Resource].flat())
      for (const action of [json.Action].flat()) add(out, resource, action);
  }
  return out;
}

const ARNS = { deadLetterQueues: ['dlq'], queues: ['queue'], table: 'table' };
const REPLAY_ARNS = { archive: 'archive', replays: 'replays', table: 'table' };

function union(...all: Grants[]): Grants {
  const out: Grants = new Map();
  for (const g of all) for (const [r, actions] of g) for (const a of actions) add(out, r, a);
  return out;
}

function plain(g: Grants): Record<string, string[]> {
  return Object.fromEntries(
    [...g].map(([r, a]) => [r, [...a].sort()]).sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
}

describe('ops policies grant exactly what the ops commands call', { timeout: 120_000 }, () => {
  let h: DashboardHarness;
  let sqs: SQSClient;
  let dynamodb: DynamoDBClient;
  let calls: Grants;
  const writes: Array<{ command: string; input: Record<string, unknown> }> = [];

  /** Records each request as an IAM action on the kind of resource it names. */
  function record(
    client: SQSClient | DynamoDBClient | EventBridgeClient,
    service: 'sqs' | 'dynamodb' | 'events',
  ): void {
    const stack = client.middlewareStack as unknown as {
      add(
        middleware: (
          next: (args: { input: unknown }) => Promise<unknown>,
          context: { commandName?: string },
        ) => (args: { input: unknown }) => Promise<unknown>,
        options: { step: 'initialize'; name: string },
      ): void;
    };
    stack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName).replace(/Command$/, '');
        const input = args.input as Record<string, unknown>;
        const action = `${service}:${IAM_ACTION[command] ?? command}`;
        if (service === 'events') {
          // DescribeArchive and StartReplay name the archive; DescribeReplay and CancelReplay a replay.
          add(
            calls,
            command.endsWith('Archive') || command === 'StartReplay' ? 'archive' : 'replays',
            action,
          );
        } else if (service === 'dynamodb') {
          add(calls, input.IndexName ? `table/index/${String(input.IndexName)}` : 'table', action);
          if (command === 'PutItem' || command === 'UpdateItem' || command === 'GetItem')
            writes.push({ command, input });
        } else {
          const name = String(input.QueueUrl ?? input.QueueName ?? input.SourceArn ?? '');
          // A task handle names its source queue (a DLQ): CancelMessageMoveTask is authorized there.
          const onDlq = name.endsWith('-dlq') || command === 'CancelMessageMoveTask';
          add(calls, onDlq ? 'dlq' : 'queue', action);
          // A move task sends into its destination: SendMessage there.
          if (command === 'StartMessageMoveTask') add(calls, 'queue', 'sqs:SendMessage');
        }
        return next(args);
      },
      { step: 'initialize', name: 'recordIamAction' },
    );
  }

  before(async () => {
    h = await startDashboardHarness();
    const config = {
      endpoint: h.runtime.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    };
    sqs = new SQSClient(config);
    dynamodb = new DynamoDBClient(config);
    record(sqs, 'sqs');
    record(dynamodb, 'dynamodb');
  });
  after(async () => {
    sqs?.destroy();
    dynamodb?.destroy();
    await h?.close();
  });

  const ops = () =>
    new Operations({ spec: SPEC, sqs, dynamodb, endpoint: h.runtime.url, operator: 'test:iam' });

  it('viewer: dlq list, dlq peek, failures, audit', async () => {
    for (const id of ['v-1', 'v-2']) await h.deadLetter(RPC, 'order.placed', id, { type: 'T', message: 'm' });
    calls = new Map();
    const o = ops();
    await o.depths();
    await o.peek(RPC, 10);
    await o.failureGroups();
    await o.auditTrail();
    const task = await o.moveTask(RPC, 'no-such-task');
    assert.equal(task.status, 'UNKNOWN');
    // The viewer policy grants exactly this (sqs:ListQueues on "*" is the one extra: it lists queue URLs,
    // for the AWS console and CLI, and cannot be scoped to queues).
    const viewer = granted(viewerStatements(ARNS));
    assert.deepEqual(plain(calls), plain(new Map([...viewer].filter(([r]) => r !== '*'))));
    assert.deepEqual(plain(new Map([...viewer].filter(([r]) => r === '*'))), { '*': ['sqs:ListQueues'] });
  });

  it('operator: the viewer commands, whole and set redrive, edit, purge, each recorded in the audit', async () => {
    calls = new Map();
    const o = ops();
    await o.depths();
    await o.peek(RPC, 10);
    const groups = await o.failureGroups();
    const task = await o.startRedrive(RPC);
    await o.followMoveTask(RPC, task.taskHandle, undefined, 50);
    for (const id of ['o-1', 'o-2']) await h.deadLetter(RPC, 'order.placed', id, { type: 'T', message: 'm' });
    await h.putDelivery({ eventId: 'o-1', rpc: RPC, status: 'DEAD', updatedAt: 1 });
    const letters = await o.peek(RPC, 10);
    const first = letters.find((d) => d.eventId === 'o-1');
    assert.ok(first && groups);
    await o.edit(RPC, first.messageId, { fixed: true });
    await o.redriveSet(
      RPC,
      letters.filter((d) => d !== first).map((d) => d.messageId),
    );
    await h.deadLetter(RPC, 'order.placed', 'o-3', { type: 'T', message: 'm' });
    // A move task cancelled (here it has already ended: the call is made and refused)
    await assert.rejects(o.cancelRedrive(RPC, task.taskHandle), /could not be cancelled/);
    await o.purge(RPC);
    await o.auditTrail();
    const allowed = union(granted(operatorStatements(ARNS)), granted(opsRecordsStatements('table')));
    assert.deepEqual(plain(calls), plain(new Map([...allowed].filter(([r]) => r !== '*'))));
    // And the table writes stay inside the policies' conditions: audit entries only under their
    // partition key, and on a delivery record only the edit note
    assert.ok(writes.length >= 5);
    for (const w of writes) {
      if (w.command === 'PutItem')
        assert.equal((w.input.Item as { eventId: string }).eventId, AUDIT_PARTITION);
      else {
        const names = Object.values(w.input.ExpressionAttributeNames as Record<string, string>);
        const key = Object.keys(w.input.Key as object);
        for (const attribute of [...names, ...key])
          assert.ok(
            (EDIT_NOTE_ATTRIBUTES as readonly string[]).includes(attribute),
            `UpdateItem writes ${attribute}`,
          );
      }
    }
    assert.ok(writes.every((w) => (w.input.TableName as string) === TABLE));
  });

  it('replay: start, follow, cancel (the replay statements, the audit write, RPC queue depths)', async () => {
    // A runtime with the router's bus, archive, rules and queues (no workers)
    const dir = mkdtempSync(join(tmpdir(), 'er-policy-replay-'));
    const plan = planRouter(SPEC);
    const ctx = { app: SPEC.app.name, stage: SPEC.app.stage };
    const resources: Record<string, unknown> = {
      Deliveries: deliveriesTableResource(TABLE),
      Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: plan.core.busName } },
      Archive: {
        Type: 'AWS::Events::Archive',
        Properties: { ArchiveName: plan.core.archiveName, SourceArn: { 'Fn::GetAtt': ['Bus', 'Arn'] } },
      },
    };
    plan.rpcs.forEach((r, i) => {
      resources[`Queue${i}`] = {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: names.queueName(ctx, r.id) },
      };
    });
    plan.rules.forEach((rule, i) => {
      resources[`Rule${i}`] = {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: rule.name,
          EventBusName: { Ref: 'Bus' },
          EventPattern: rule.pattern,
          Targets: rule.targets.map((t) => ({
            Id: t.id,
            Arn: { 'Fn::GetAtt': [`Queue${plan.rpcs.findIndex((r) => r.id === t.rpc)}`, 'Arn'] },
          })),
        },
      };
    });
    writeStackAssembly(dir, 'shop-test', { Resources: resources });
    let r: Harness | undefined;
    const config = { region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } };
    let events: EventBridgeClient | undefined;
    let rsqs: SQSClient | undefined;
    let rdb: DynamoDBClient | undefined;
    try {
      r = await startHarness({ cdkOut: dir, replayStartingMs: 2000 });
      events = new EventBridgeClient({ ...config, endpoint: r.runtime.url });
      rsqs = new SQSClient({ ...config, endpoint: r.runtime.url });
      rdb = new DynamoDBClient({ ...config, endpoint: r.runtime.url });
      record(events, 'events');
      record(rsqs, 'sqs');
      record(rdb, 'dynamodb');
      calls = new Map();
      writes.length = 0;
      const o = new Operations({
        spec: SPEC,
        sqs: rsqs,
        dynamodb: rdb,
        events,
        endpoint: r.runtime.url,
        operator: 'test:iam',
      });
      const window = { from: new Date(Date.now() - 60_000), to: new Date() };
      const first = planReplay(SPEC, { ...window, events: ['order.placed'], rpcs: [RPC] });
      await o.replays.start(first);
      await o.replays.recordEnd(
        await o.replays.follow(first.name, {
          pollMs: 50,
          settleMs: 100,
          pending: () => o.pendingIn(first.rpcs),
        }),
      );
      const second = planReplay(SPEC, { ...window, name: `${first.name}-b` });
      await o.replays.start(second);
      await o.replays.cancel(second.name);
      // Then: exactly the replay statements, the audit entry's PutItem and the RPC queues' depth reads
      const expected = union(
        granted(replayStatements(REPLAY_ARNS)),
        new Map([
          ['table', new Set(['dynamodb:PutItem'])],
          ['queue', new Set(['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'])],
        ]),
      );
      assert.deepEqual(plain(calls), plain(expected));
      // each of which the operator, ops records and replay statements grant
      const allowed = union(
        granted(operatorStatements(ARNS)),
        granted(opsRecordsStatements('table')),
        granted(replayStatements(REPLAY_ARNS)),
      );
      for (const [resource, actions] of calls)
        for (const action of actions)
          assert.ok(allowed.get(resource)?.has(action), `${action} on ${resource}`);
      // and the table items touched are the audit's and the replay records' partitions only
      for (const w of writes) {
        const key = (w.input.Item ?? w.input.Key) as { eventId: string };
        assert.ok(
          [AUDIT_PARTITION, REPLAY_PARTITION].includes(key.eventId),
          `${w.command} on ${key.eventId}`,
        );
        if (w.command === 'GetItem') assert.equal(key.eventId, REPLAY_PARTITION);
      }
    } finally {
      events?.destroy();
      rsqs?.destroy();
      rdb?.destroy();
      await r?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
