/**
 * The runtime end to end over the fixture assembly (shaped like `cdk synth` output): events are
 * published with the SDK, routed by the template's rules, and handled by the bundled worker running
 * in a child process, which reports each run on a probe queue.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { createDashboard } from '../../lib/local/dashboard/index.ts';
import { makeSpec } from '../support/specs.ts';
import { eventually, type Harness, publishFixtureEvent, startHarness } from './helpers.ts';

interface ProbeRecord {
  readonly rpc: string;
  readonly body: {
    rpc?: string;
    event?: { detail: { metadata: { eventId: string }; payload: Record<string, unknown> } };
  };
  readonly attempt: number;
  readonly invocations: number;
  readonly remaining: number;
  readonly functionName: string;
  readonly env: Record<string, string>;
}

let h: Harness;
const probes: ProbeRecord[] = [];
let collecting = true;
let collector: Promise<void>;

async function collect(): Promise<void> {
  const url = `${h.runtime.url}/000000000000/test-dev-probe`;
  while (collecting) {
    const { Messages = [] } = await h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of Messages) {
      probes.push(JSON.parse(m.Body ?? '{}') as ProbeRecord);
      await h.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

function runsOf(eventId: string, rpc?: string): ProbeRecord[] {
  return probes.filter((p) => {
    const body = p.body as {
      event?: { detail?: { metadata?: { eventId?: string } } };
      detail?: { metadata?: { eventId?: string } };
    };
    const id = (body.event ?? body).detail?.metadata?.eventId;
    return id === eventId && (rpc === undefined || p.rpc === rpc);
  });
}

async function publish(payload: Record<string, unknown>): Promise<string> {
  const eventId = randomUUID();
  const out = await publishFixtureEvent(h.events, eventId, payload);
  assert.equal(out.FailedEntryCount, 0);
  return eventId;
}

async function depth(queue: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await h.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: `${h.runtime.url}/000000000000/${queue}`,
      AttributeNames: ['All'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

async function settled(queue: string): Promise<void> {
  await eventually(
    async () => {
      const d = await depth(queue);
      return d.visible === 0 && d.inFlight === 0 ? true : undefined;
    },
    20_000,
    `${queue} to be empty`,
  );
}

describe('runtime end to end (fixture assembly)', () => {
  before(async () => {
    h = await startHarness();
    collector = collect();
  });
  after(async () => {
    collecting = false;
    await collector;
    await h.close();
  });

  it('reads the templates: queues, rules, functions, mappings, API routes, and what it ignores', () => {
    const m = h.runtime.model;
    assert.deepEqual(m.problems, []);
    assert.equal(m.rules.length, 2);
    assert.deepEqual(m.functions.map((f) => f.name).sort(), [
      'test-dev-publish',
      'test-dev-svc-other',
      'test-dev-svc-work',
    ]);
    assert.equal(m.mappings.find((x) => x.functionName === 'test-dev-svc-work')?.maximumConcurrency, 2);
    assert.equal(m.apis[0]?.routes.length, 2);
    assert.ok(m.ignored['AWS::IAM::Role']);
  });

  it('delivers a published event to its handler once, and a content filter keeps it from the other RPC', async () => {
    const eventId = await publish({ amount: 50 });
    await eventually(() => (runsOf(eventId, 'Svc/Work').length === 1 ? true : undefined));
    await settled('test-dev-svc-work');
    await settled('test-dev-svc-other');
    assert.equal(runsOf(eventId).length, 1, 'only Svc/Work ran, once');
    const run = runsOf(eventId)[0];
    assert.equal(run?.attempt, 1);
    assert.equal(run?.body.rpc, 'Svc/Work');
    assert.ok((run?.remaining ?? 0) > 0 && (run?.remaining ?? 0) <= 3000);
  });

  it('fans an event out to every matching RPC', async () => {
    const eventId = await publish({ amount: 150 });
    await eventually(() => (runsOf(eventId).length === 2 ? true : undefined));
    assert.deepEqual(
      runsOf(eventId)
        .map((r) => r.rpc)
        .sort(),
      ['Svc/Other', 'Svc/Work'],
    );
  });

  it('gives functions the template environment resolved to local values, and keeps module state warm', async () => {
    const first = await publish({ amount: 1 });
    await eventually(() => (runsOf(first).length === 1 ? true : undefined));
    await settled('test-dev-svc-work');
    const second = await publish({ amount: 2 });
    await eventually(() => (runsOf(second).length === 1 ? true : undefined));
    const run = runsOf(first)[0];
    assert.deepEqual(run?.env, {
      bus: 'test-dev-bus',
      table: 'test-dev-deliveries',
      dlq: `${h.runtime.url}/000000000000/test-dev-svc-work-dlq`,
      joined: 'arn:aws:sqs:us-east-1:000000000000:test-dev-svc-work',
      subbed: 'test-dev-svc/arn:aws:sqs:us-east-1:000000000000:test-dev-svc-work',
      endpoint: h.runtime.url,
    });
    assert.ok((runsOf(second)[0]?.invocations ?? 0) > 1, 'the module counter survived between invocations');
  });

  it('retries a failing message, moves it to the DLQ after maxReceiveCount, and a move task redrives it to be handled once', async () => {
    const eventId = await publish({ amount: 5, mode: 'fail-until-fixed' });
    const dlq = await eventually(
      async () => ((await depth('test-dev-svc-work-dlq')).visible === 1 ? true : undefined),
      30_000,
      'DLQ',
    );
    assert.ok(dlq);
    assert.deepEqual(
      runsOf(eventId, 'Svc/Work').map((r) => r.attempt),
      [1, 2, 3],
    );
    // Fix the handler, then redrive.
    await h.dynamodb.send(
      new PutItemCommand({
        TableName: 'test-dev-deliveries',
        Item: { eventId: { S: 'switch' }, rpc: { S: 'fixed' } },
      }),
    );
    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:test-dev-svc-work-dlq';
    await h.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    await eventually(
      () => (runsOf(eventId, 'Svc/Work').length === 4 ? true : undefined),
      20_000,
      'the redriven run',
    );
    await settled('test-dev-svc-work');
    const { Results = [] } = await h.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    assert.equal(Results[0]?.ApproximateNumberOfMessagesMoved, 1);
    assert.equal((await depth('test-dev-svc-work-dlq')).visible, 0);
    assert.equal(runsOf(eventId, 'Svc/Work').length, 4, 'handled once after the redrive');
    const failed = h.deliveries.filter((d) => d.eventId === eventId);
    assert.deepEqual(
      failed.map((d) => `${d.outcome}#${d.attempt}`),
      ['failed#1', 'failed#2', 'failed#3', 'ok#1'],
    );
  });

  it('deletes the successes of a batch and retries only the reported failures', async () => {
    const ok = randomUUID();
    const bad = randomUUID();
    const detail = (eventId: string, mode: string) =>
      JSON.stringify({ metadata: { eventId }, payload: { amount: 1, mode } });
    await h.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'test-dev-bus',
            Source: 'event-router.test',
            DetailType: 'thing.happened',
            Detail: detail(ok, 'ok'),
          },
          {
            EventBusName: 'test-dev-bus',
            Source: 'event-router.test',
            DetailType: 'thing.happened',
            Detail: detail(bad, 'fail'),
          },
        ],
      }),
    );
    await eventually(() => (runsOf(bad).length === 3 ? true : undefined), 30_000, 'three attempts');
    await settled('test-dev-svc-work');
    assert.equal(runsOf(ok).length, 1);
  });

  it('reloads the assembly without losing queued messages', async () => {
    const dlq = `${h.runtime.url}/000000000000/test-dev-svc-other-dlq`;
    await h.sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: 'kept across reload' }));
    const model = await h.runtime.reload();
    assert.equal(model.functions.length, 3);
    const { Messages = [] } = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq }));
    assert.equal(Messages[0]?.Body, 'kept across reload');
    const eventId = await publish({ amount: 3 });
    await eventually(
      () => (runsOf(eventId).length === 1 ? true : undefined),
      20_000,
      'a run after the reload',
    );
    assert.equal(runsOf(eventId)[0]?.functionName, 'test-dev-svc-work');
  });

  it('serves the REST API routes with the Lambda proxy event', async () => {
    const api = h.runtime.model.apis[0];
    assert.ok(api);
    const post = await fetch(`${h.runtime.url}/api/events?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"hello":"world"}',
    });
    assert.equal(post.status, 201);
    assert.equal(post.headers.get('x-test'), 'yes');
    const body = (await post.json()) as Record<string, unknown>;
    assert.deepEqual(body, {
      resource: '/events',
      path: '/events',
      method: 'POST',
      pathParameters: null,
      query: { x: '1' },
      body: '{"hello":"world"}',
      stage: 'v1',
    });
    const get = await fetch(`${h.runtime.url}/restapis/${api.id}/v1/_user_request_/events/abc-1`);
    assert.equal(get.status, 201);
    assert.deepEqual(((await get.json()) as { pathParameters: unknown }).pathParameters, {
      eventId: 'abc-1',
    });
    assert.equal((await fetch(`${h.runtime.url}/api/events`, { method: 'DELETE' })).status, 405);
  });

  it('reports the event -> RPC graph, depths and recent deliveries at /_status, and a DLQ redrives', async () => {
    // Alone, the runtime answers only its own facts there
    const facts = (await (await fetch(`${h.runtime.url}/_status`)).json()) as {
      endpoint: string;
      status: string;
    };
    assert.equal(facts.endpoint, h.runtime.url);
    assert.match(facts.status, /\/_dashboard\/api\/status/);
    // With the dashboard mounted (as `event-router dev` mounts it), /_status is the dashboard API's status
    const dashboard = createDashboard({
      endpoint: h.runtime.url,
      region: 'us-east-1',
      spec: makeSpec({
        app: 'test',
        stage: 'dev',
        rpcs: [{ id: 'Svc/Work' }],
        subscriptions: [{ event: 'thing.happened', rpc: 'Svc/Work' }],
      }),
      facts: () => h.runtime.facts(),
    });
    h.runtime.mount(dashboard);
    // The recent deliveries are the delivery records (the fixture's worker writes none: one is written here)
    await h.dynamodb.send(
      new PutItemCommand({
        TableName: 'test-dev-deliveries',
        Item: {
          eventId: { S: 'status-1' },
          rpc: { S: 'Svc/Work' },
          status: { S: 'COMPLETED' },
          attempts: { N: '1' },
          updatedAt: { N: String(Date.now()) },
          eventName: { S: 'thing.happened' },
        },
      }),
    );
    const status = (await (await fetch(`${h.runtime.url}/_status`)).json()) as {
      endpoint: string;
      rpcs: Array<{ rpc: string; events: string[]; dlq: { name: string; visible: number } | null }>;
      recent: { items: Array<{ rpc: string; status: string }> };
    };
    assert.deepEqual(
      status,
      (await (await fetch(`${h.runtime.url}/_dashboard/api/status`)).json()) as unknown,
      'one implementation: /_status is the dashboard API',
    );
    assert.equal(status.endpoint, h.runtime.url);
    const work = status.rpcs.find((r) => r.rpc === 'Svc/Work');
    assert.deepEqual(work?.events, ['thing.happened']);
    assert.equal(work?.dlq?.name, 'test-dev-svc-work-dlq');
    assert.ok(status.recent.items.some((d) => d.rpc === 'Svc/Work' && d.status === 'COMPLETED'));
    const dlqUrl = `${h.runtime.url}/000000000000/test-dev-svc-work-dlq`;
    await h.sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify({
          rpc: 'Svc/Work',
          event: { detail: { metadata: { eventId: 'dash-1' }, payload: {} } },
        }),
      }),
    );
    // The runtime's own `/_redrive` is gone (a page elsewhere could post to it): redrive through SQS.
    await h.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: 'arn:aws:sqs:us-east-1:000000000000:test-dev-svc-work-dlq',
      }),
    );
    await eventually(
      () => (runsOf('dash-1').length === 1 ? true : undefined),
      20_000,
      'the run redriven by a move task',
    );
  });
  it('serves mounted handlers (the dashboard) on the same port, after the API routes', async () => {
    h.runtime.mount(async (req, res) => {
      if (req.url !== '/hello') return false;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('mounted');
      return true;
    });
    assert.equal(await (await fetch(`${h.runtime.url}/hello`)).text(), 'mounted');
    assert.equal((await fetch(`${h.runtime.url}/api/events`, { method: 'POST', body: '{}' })).status, 201);
    assert.equal((await fetch(`${h.runtime.url}/_status`)).status, 200);
  });

  // Last: the crashing and hanging messages keep failing (and land in the DLQ) while later tests run.
  it('survives a handler that crashes its process or hangs past its timeout', async () => {
    const crash = await publish({ amount: 1, mode: 'crash' });
    await eventually(() =>
      h.deliveries.some((d) => d.eventId === crash && d.outcome === 'crash') ? true : undefined,
    );
    const hang = await publish({ amount: 1, mode: 'hang' });
    await eventually(
      () => (h.deliveries.some((d) => d.eventId === hang && d.outcome === 'timeout') ? true : undefined),
      30_000,
      'the timeout',
    );
    const after = await publish({ amount: 1 });
    await eventually(
      () => (runsOf(after).length === 1 ? true : undefined),
      20_000,
      'a run after the crash and the hang',
    );
    assert.ok((h.runtime.runner('test-dev-svc-work')?.starts ?? 0) >= 3, 'the child was restarted');
  });
});
