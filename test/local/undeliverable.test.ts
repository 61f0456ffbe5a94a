/**
 * PutEvents never acknowledges an event and then loops on it: a target message larger than the
 * queue takes, or an input that cannot be rendered (a detail nested 10,000 deep), goes to the
 * target's DLQ at once with its reason; a target retry that waits survives a restart.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListQueuesCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { RouteLog } from '../../lib/local/services/eventbridge/bus.ts';
import { ManualClock } from '../support/clock.ts';
import { drain, type Harness, startHarness, writeStackAssembly } from './helpers.ts';

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** One bus `b`, one rule on source `s` with one target (a queue, maybe not declared) and a DLQ. */
function writeAssembly(dir: string, options: { declareTarget: boolean }): void {
  writeStackAssembly(dir, 'app', {
    Resources: {
      Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'b' } },
      Dlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'target-dlq' } },
      ...(options.declareTarget
        ? { Target: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'target' } } }
        : {}),
      Rule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: 'r',
          EventBusName: { Ref: 'Bus' },
          EventPattern: { source: ['s'] },
          Targets: [
            {
              Id: 'worker',
              Arn: 'arn:aws:sqs:us-east-1:000000000000:target',
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
              InputTransformer: {
                InputPathsMap: {},
                InputTemplate: '{"rpc": "Svc/Work", "event": <aws.events.event.json>}',
              },
            },
          ],
        },
      },
    },
  });
}

async function put(h: Harness, detail: string): Promise<string> {
  const out = await h.events.send(
    new PutEventsCommand({ Entries: [{ EventBusName: 'b', Source: 's', DetailType: 'd', Detail: detail }] }),
  );
  assert.equal(out.FailedEntryCount, 0);
  return out.Entries?.[0]?.EventId ?? '';
}

function attribute(message: Message | undefined, name: string): string | undefined {
  return message?.MessageAttributes?.[name]?.StringValue;
}

describe('events a target can never take', () => {
  it('dead-letters at once, with the reason, an event whose target message is over the queue limit', async () => {
    const dir = tempDir('er-undeliverable-');
    writeAssembly(dir, { declareTarget: true });
    const routes: RouteLog[] = [];
    const h = await startHarness({ cdkOut: dir, events: { route: (r) => routes.push(r) } });
    try {
      // An entry just under the 1 MiB PutEvents limit: the rule's wrapper pushes it over 1 MiB.
      const detail = JSON.stringify({ pad: 'x'.repeat(1024 * 1024 - 100) });
      const eventId = await put(h, detail);
      const [dead] = await drain(h.sqs, `${h.runtime.url}/000000000000/target-dlq`, 1);
      assert.equal(attribute(dead, 'ERROR_CODE'), 'SQS.InvalidParameterValue');
      assert.match(attribute(dead, 'ERROR_MESSAGE') ?? '', /the queue takes at most 1048576 bytes/);
      assert.equal(attribute(dead, 'RETRY_ATTEMPTS'), '0');
      assert.equal(attribute(dead, 'EXHAUSTED_RETRY_CONDITION'), undefined, 'no retries were spent');
      assert.equal(JSON.parse(dead?.Body ?? '{}').id, eventId, 'the dead letter is the event');
      assert.deepEqual(
        routes.map((r) => r.outcome),
        ['dead-lettered'],
        'never retried',
      );
      assert.equal(h.runtime.buses.pendingRetries(), 0);
    } finally {
      await h.close();
    }
  });

  it('dead-letters at once an event whose detail is nested 10,000 deep, and keeps serving', async () => {
    const dir = tempDir('er-deep-');
    writeAssembly(dir, { declareTarget: true });
    const routes: RouteLog[] = [];
    const h = await startHarness({ cdkOut: dir, events: { route: (r) => routes.push(r) } });
    try {
      const depth = 10_000;
      const detail = `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const eventId = await put(h, detail);
      const [dead] = await drain(h.sqs, `${h.runtime.url}/000000000000/target-dlq`, 1);
      assert.equal(attribute(dead, 'ERROR_CODE'), 'InputTransformationFailed');
      assert.match(attribute(dead, 'ERROR_MESSAGE') ?? '', /could not be rendered.*nested too deeply/);
      const body = dead?.Body ?? '';
      assert.ok(body.includes(`"id":"${eventId}"`), 'the dead letter carries the event');
      assert.ok(body.endsWith(`,"detail":${detail}}`), 'with its detail as it was put');
      assert.deepEqual(
        routes.map((r) => r.outcome),
        ['dead-lettered'],
      );
      const { QueueUrls = [] } = await h.sqs.send(new ListQueuesCommand({}));
      assert.ok(QueueUrls.length >= 2, 'the runtime still answers');
      const ok = await put(h, JSON.stringify({ fine: true }));
      const [delivered] = await drain(h.sqs, `${h.runtime.url}/000000000000/target`, 1);
      assert.equal(JSON.parse(delivered?.Body ?? '{}').event.id, ok);
    } finally {
      await h.close();
    }
  });
});

describe('target retries survive a restart', () => {
  it('resumes a journaled retry after the runtime restarts, and delivers once the queue exists', async () => {
    const dir = tempDir('er-retry-assembly-');
    const stateDir = tempDir('er-retry-state-');
    // Given a rule whose target queue is not there yet: the event waits for a retry.
    writeAssembly(dir, { declareTarget: false });
    const routes: RouteLog[] = [];
    const clock = new ManualClock();
    let h = await startHarness({
      cdkOut: dir,
      inMemory: false,
      stateDir,
      clock,
      events: { route: (r) => routes.push(r) },
    });
    const eventId = await put(h, JSON.stringify({ kept: 'across the restart' }));
    assert.equal(routes[0]?.outcome, 'retrying');
    assert.equal(h.runtime.buses.pendingRetries(), 1);
    await h.close();

    // When the runtime restarts with the queue declared,
    writeAssembly(dir, { declareTarget: true });
    h = await startHarness({ cdkOut: dir, inMemory: false, stateDir, clock });
    try {
      assert.equal(h.runtime.buses.pendingRetries(), 1);
      // Then the journaled retry delivers the event to it once its backoff (1 s) has passed.
      await clock.advance(1_000);
      const { Messages: [delivered] = [] } = await h.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: `${h.runtime.url}/000000000000/target` }),
      );
      assert.equal(JSON.parse(delivered?.Body ?? '{}').event.id, eventId);
      assert.deepEqual(JSON.parse(delivered?.Body ?? '{}').event.detail, { kept: 'across the restart' });
      assert.equal(h.runtime.buses.pendingRetries(), 0);
    } finally {
      await h.close();
    }
  });
});
