/**
 * Durability: the runtime runs in a child process with a state directory and is killed with
 * SIGKILL; after a restart on the same directory no accepted message is lost, in-flight messages
 * come back after their visibility timeout, and DynamoDB items are still there.
 *
 * The runtimes run on clocks the test moves (test/support/clock.ts): the restart happens at the same
 * moment as the kill however long it takes, and the visibility timeout ends when the test says so.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { ManualClock } from '../support/clock.ts';
import { CLIENT_CONFIG, eventually, publishFixtureEvent, startHarness } from './helpers.ts';

const SERVE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'serve.ts');

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  /** What the runtime found in flight when it started (the dev banner announces it). */
  readonly recovered: { messages: number; firstVisibleAt?: number } | undefined;
  /** The next line the child prints. */
  nextLine(): Promise<string>;
}

/** Starts the runtime in a child process on a clock that starts at `clock` and moves when told. */
function startChild(stateDir: string, clock: number): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVE, stateDir, '--clock', String(clock)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  return new Promise((resolve, reject) => {
    void nextLine().then((line) => {
      const started = JSON.parse(line) as Pick<Running, 'url' | 'recovered'>;
      resolve({ child, url: started.url, recovered: started.recovered, nextLine });
    });
    child.once('exit', (code) => reject(new Error(`runtime child exited early (code ${code})`)));
  });
}

/** Moves the child's clock by `ms`; resolves once the timers due on the way have run. */
async function advance(running: Running, ms: number): Promise<void> {
  const answer = running.nextLine();
  running.child.stdin?.write(`advance ${ms}\n`);
  await answer;
}

function kill9(running: Running): Promise<void> {
  return new Promise((resolve) => {
    running.child.once('exit', () => resolve());
    running.child.kill('SIGKILL');
  });
}

function clients(url: string) {
  const config = { ...CLIENT_CONFIG, endpoint: url };
  return {
    sqs: new SQSClient(config),
    events: new EventBridgeClient(config),
    dynamodb: new DynamoDBClient(config),
  };
}

describe('durability across kill -9', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'er-durability-'));
  let current: Running | undefined;
  after(async () => {
    if (current) await kill9(current);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('loses no accepted message and returns in-flight ones after their visibility timeout', async () => {
    // Given: a runtime that accepted 30 messages, 5 of them received (in flight) and 2 events.
    const killedAt = Date.now();
    current = await startChild(stateDir, killedAt);
    let c = clients(current.url);
    const probe = `${current.url}/000000000000/test-dev-probe`;
    for (let batch = 0; batch < 3; batch++) {
      await c.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: probe,
          Entries: Array.from({ length: 10 }, (_, i) => ({
            Id: `m${i}`,
            MessageBody: `message ${batch * 10 + i}`,
          })),
        }),
      );
    }
    const inFlight = await c.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: probe, MaxNumberOfMessages: 5, VisibilityTimeout: 2 }),
    );
    assert.equal(inFlight.Messages?.length, 5);
    // Five more held for ten minutes on a queue no function polls.
    const held = `${current.url}/000000000000/test-dev-svc-other-dlq`;
    await c.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: held,
        Entries: Array.from({ length: 5 }, (_, i) => ({ Id: `h${i}`, MessageBody: `held ${i}` })),
      }),
    );
    const heldInFlight = await c.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: held, MaxNumberOfMessages: 5, VisibilityTimeout: 600 }),
    );
    assert.equal(heldInFlight.Messages?.length, 5);
    await c.dynamodb.send(
      new PutItemCommand({
        TableName: 'test-dev-deliveries',
        Item: { eventId: { S: 'kept' }, rpc: { S: 'x' } },
      }),
    );
    const published = await publishFixtureEvent(c.events, 'durable-1', { amount: 1, mode: 'hang' });
    assert.equal(published.FailedEntryCount, 0);

    // When: the process is killed without warning and started again on the same state, its clock
    // where the first one stopped (no time passed for the messages in flight).
    await kill9(current);
    current = await startChild(stateDir, killedAt);
    c = clients(current.url);
    const probeAfter = `${current.url}/000000000000/test-dev-probe`;
    const recovered = current.recovered;
    assert.ok(recovered && recovered.messages >= 10, `recovered: ${JSON.stringify(recovered)}`);
    assert.equal(recovered.firstVisibleAt, killedAt + 2_000, 'says when they come back');

    // Then: every message is there; the in-flight ones come back after their visibility timeout.
    const { Attributes = {} } = await c.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: probeAfter, AttributeNames: ['All'] }),
    );
    const probeTotal =
      Number(Attributes.ApproximateNumberOfMessages) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible);
    assert.ok(probeTotal >= 30, `probe queue holds ${probeTotal} messages`);
    assert.equal(
      Attributes.ApproximateNumberOfMessagesNotVisible,
      '5',
      'the received ones are still in flight',
    );
    await advance(current, 2_000);
    const bodies = new Set<string>();
    for (;;) {
      const { Messages = [] } = await c.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: probeAfter, MaxNumberOfMessages: 10 }),
      );
      if (Messages.length === 0) break;
      for (const m of Messages) {
        const body = m.Body ?? '';
        if (body.startsWith('message ')) bodies.add(body);
        await c.sqs.send(new DeleteMessageCommand({ QueueUrl: probeAfter, ReceiptHandle: m.ReceiptHandle }));
      }
    }
    assert.equal(bodies.size, 30, 'all 30 messages');
    const item = await c.dynamodb.send(
      new GetItemCommand({
        TableName: 'test-dev-deliveries',
        Key: { eventId: { S: 'kept' }, rpc: { S: 'x' } },
      }),
    );
    assert.ok(item.Item, 'the DynamoDB item survived');
    // The published event is still owed to its RPC: on the work queue or being handled.
    const work = await c.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: `${current.url}/000000000000/test-dev-svc-work`,
        AttributeNames: ['All'],
      }),
    );
    const owed =
      Number(work.Attributes?.ApproximateNumberOfMessages) +
      Number(work.Attributes?.ApproximateNumberOfMessagesNotVisible);
    assert.equal(owed, 1);
    for (const client of Object.values(c)) client.destroy();
  });

  it('makes the batches cut short by a graceful stop visible again at once after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-graceful-'));
    try {
      // Given: a handler hanging on a message (its queue's visibility timeout is 18 s), on a clock
      // that does not move: a message received again after the restart was made visible at once.
      const clock = new ManualClock();
      let h = await startHarness({ inMemory: false, stateDir: dir, retryDelaySeconds: undefined, clock });
      const out = await publishFixtureEvent(h.events, 'graceful-1', { amount: 1, mode: 'hang' });
      assert.equal(out.FailedEntryCount, 0);
      const work = () =>
        h.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: `${h.runtime.url}/000000000000/test-dev-svc-work`,
            AttributeNames: ['All'],
          }),
        );
      await eventually(async () =>
        (await work()).Attributes?.ApproximateNumberOfMessagesNotVisible === '1' ? true : undefined,
      );
      // When: the runtime stops gracefully mid-invocation and starts again.
      await h.close();
      h = await startHarness({ inMemory: false, stateDir: dir, retryDelaySeconds: undefined, clock });
      try {
        // Then: the message is received again before its 18 s visibility timeout (no time passed).
        await eventually(
          () => (h.runtime.runner('test-dev-svc-work')?.starts ? true : undefined),
          10_000,
          'the message to be handled again after the restart',
        );
      } finally {
        await h.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
