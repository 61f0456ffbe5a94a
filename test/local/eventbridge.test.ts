/**
 * EventBridge through real SDK clients: PutEvents validation and per-entry results, and
 * TestEventPattern over every case of test/conformance/eventbridge-patterns.json (recorded against EventBridge).
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type EventBridgeClient,
  InvalidEventPatternException,
  PutEventsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { type Harness, startHarness } from './helpers.ts';

interface ConformanceCase {
  readonly name: string;
  readonly expect: 'match' | 'no-match' | 'invalid';
  readonly event: unknown;
  readonly pattern: unknown;
  readonly awsError?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const CONFORMANCE = join(here, '..', 'conformance', 'eventbridge-patterns.json');
const cases = (JSON.parse(readFileSync(CONFORMANCE, 'utf8')) as { cases: ConformanceCase[] }).cases;

let h: Harness;

describe('EventBridge API', () => {
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('answers PutEvents with an EventId per accepted entry and an error per rejected one', async () => {
    const out = await h.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'test-dev-bus',
            Source: 'event-router.test',
            DetailType: 'other.thing',
            Detail: '{"a":1}',
          },
          { EventBusName: 'test-dev-bus', DetailType: 'x', Detail: '{}' },
          { EventBusName: 'test-dev-bus', Source: 's', DetailType: 'x', Detail: '{not json' },
          { EventBusName: 'no-such-bus', Source: 's', DetailType: 'x', Detail: '{}' },
          { Source: 's', DetailType: 'x', Detail: '{}' },
        ],
      }),
    );
    assert.equal(out.FailedEntryCount, 2);
    assert.match(out.Entries?.[0]?.EventId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(out.Entries?.[1]?.ErrorCode, 'InvalidArgument');
    assert.match(out.Entries?.[1]?.ErrorMessage ?? '', /Source/);
    assert.equal(out.Entries?.[2]?.ErrorCode, 'MalformedDetail');
    // EventBridge accepts an entry for a bus that does not exist (and drops it): no error entry.
    assert.match(out.Entries?.[3]?.EventId ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(out.Entries?.[4]?.EventId, 'the default bus exists');
  });

  it('rejects more than 10 entries and oversized requests with ValidationException', async () => {
    const entry = { Source: 's', DetailType: 'x', Detail: '{}' };
    await assert.rejects(
      h.events.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry) })),
      (e: Error) => e.name === 'ValidationException',
    );
    const big = { Source: 's', DetailType: 'x', Detail: JSON.stringify({ pad: 'x'.repeat(1_100_000) }) };
    await assert.rejects(
      h.events.send(new PutEventsCommand({ Entries: [big] })),
      (e: Error) => e.name === 'ValidationException',
    );
  });

  it('rejects an invalid pattern with InvalidEventPatternException', async () => {
    await assert.rejects(
      h.events.send(
        new TestEventPatternCommand({
          EventPattern: '{"source":[]}',
          Event: JSON.stringify(cases[0]?.event),
        }),
      ),
      InvalidEventPatternException,
    );
  });

  it(`agrees with EventBridge on all ${cases.length} conformance cases, error messages included`, async () => {
    const client: EventBridgeClient = h.events;
    const disagreements: string[] = [];
    for (const c of cases) {
      let got: string;
      try {
        const out = await client.send(
          new TestEventPatternCommand({
            EventPattern: JSON.stringify(c.pattern),
            Event: JSON.stringify(c.event),
          }),
        );
        got = out.Result ? 'match' : 'no-match';
      } catch (error) {
        if (!(error instanceof InvalidEventPatternException)) throw error;
        got = 'invalid';
        if (c.awsError && error.message !== c.awsError)
          disagreements.push(`${c.name}: AWS said "${c.awsError}", the runtime "${error.message}"`);
      }
      if (got !== c.expect) disagreements.push(`${c.name}: expected ${c.expect}, got ${got}`);
    }
    assert.deepEqual(disagreements, []);
  });
});
