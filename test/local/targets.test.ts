/**
 * Rule targets that cannot be delivered to: retried per the target's RetryPolicy, then sent to the
 * target's dead-letter queue with the attributes EventBridge sets. Uses a small assembly written
 * here (one rule, a target queue that does not exist, and a DLQ), on a clock the test moves past the
 * retry's backoff.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { RouteLog } from '../../lib/local/services/eventbridge/bus.ts';
import { ManualClock } from '../support/clock.ts';
import { type Harness, startHarness, writeStackAssembly } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'er-targets-'));
const routes: RouteLog[] = [];
const clock = new ManualClock();
let h: Harness;

function writeAssembly(): void {
  writeStackAssembly(dir, 'app', {
    Resources: {
      Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'b' } },
      Dlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'target-dlq' } },
      Small: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'small', MaximumMessageSize: 1024 } },
      Rule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: 'r',
          EventBusName: { Ref: 'Bus' },
          EventPattern: { source: ['s'] },
          Targets: [
            {
              Id: 'missing',
              Arn: 'arn:aws:sqs:us-east-1:000000000000:not-declared',
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
              RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 60 },
            },
            {
              Id: 'too-small',
              Arn: { 'Fn::GetAtt': ['Small', 'Arn'] },
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
              RetryPolicy: { MaximumRetryAttempts: 0 },
            },
          ],
        },
      },
    },
  });
}

describe('rule targets that fail', () => {
  before(async () => {
    writeAssembly();
    h = await startHarness({ cdkOut: dir, clock, events: { route: (r) => routes.push(r) } });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries per RetryPolicy, then sends the event to the target DLQ with EventBridge attributes', async () => {
    const out = await h.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'b',
            Source: 's',
            DetailType: 'd',
            Detail: JSON.stringify({ pad: 'x'.repeat(2000) }),
          },
        ],
      }),
    );
    assert.equal(out.FailedEntryCount, 0);
    // The target that cannot take the event is dead-lettered at once; the missing one waits for its
    // retry (1 s of backoff), which fails too and sends it to the DLQ.
    assert.deepEqual(routes.map((r) => `${r.targetArn.split(':').pop()}:${r.outcome}`).sort(), [
      'not-declared:retrying',
      'small:dead-lettered',
    ]);
    await clock.advance(1_000);
    const url = `${h.runtime.url}/000000000000/target-dlq`;
    const { Messages: messages = [] } = await h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    assert.equal(messages.length, 2, 'two dead letters');
    const byTarget = new Map(messages.map((m) => [m.MessageAttributes?.TARGET_ARN?.StringValue, m]));
    const missing = byTarget.get('arn:aws:sqs:us-east-1:000000000000:not-declared');
    assert.equal(missing?.MessageAttributes?.RETRY_ATTEMPTS?.StringValue, '1');
    assert.equal(
      missing?.MessageAttributes?.EXHAUSTED_RETRY_CONDITION?.StringValue,
      'MaximumRetryAttemptsExhausted',
    );
    assert.equal(
      missing?.MessageAttributes?.RULE_ARN?.StringValue,
      'arn:aws:events:us-east-1:000000000000:rule/b/r',
    );
    assert.equal(JSON.parse(missing?.Body ?? '{}').source, 's', 'the dead letter is the original event');
    const small = byTarget.get('arn:aws:sqs:us-east-1:000000000000:small');
    assert.equal(small?.MessageAttributes?.RETRY_ATTEMPTS?.StringValue, '0');
    assert.deepEqual(routes.map((r) => `${r.targetArn.split(':').pop()}:${r.outcome}`).sort(), [
      'not-declared:dead-lettered',
      'not-declared:retrying',
      'small:dead-lettered',
    ]);
  });
});
