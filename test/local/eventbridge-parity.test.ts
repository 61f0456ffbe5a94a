/**
 * EventBridge facts the local runtime is held to, through a real SDK client: event-pattern facts from
 * AWS's own matching library (aws/event-ruler) replayed through TestEventPattern (the range each CIDR
 * block covers, whatever host bits it is written with; numeric ranges whose bottom is not below their
 * top), and PutEvents to a bus that does not exist (accepted and dropped, with a warning).
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as eventbridge from '@aws-sdk/client-eventbridge';
import {
  InvalidEventPatternException,
  PutEventsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import type { RouteLog } from '../../lib/local/services/eventbridge/bus.ts';
import { type Harness, startHarness } from './helpers.ts';

interface CidrCase {
  readonly cidr: string;
  readonly bottom: string;
  readonly top: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const corpus = JSON.parse(readFileSync(join(here, '..', 'conformance', 'event-ruler-cidr.json'), 'utf8')) as {
  cases: CidrCase[];
};

interface ApiCase {
  readonly test: string;
  readonly op: string;
  readonly input: Record<string, unknown>;
  readonly output?: unknown;
  readonly error?: { readonly Code: string; readonly Message: string; readonly HTTPStatusCode: number };
}

const api = JSON.parse(
  readFileSync(join(here, '..', 'conformance', 'eventbridge-api-recorded.json'), 'utf8'),
) as {
  cases: ApiCase[];
};

type SendableCommand = Parameters<eventbridge.EventBridgeClient['send']>[0];
const commands = eventbridge as unknown as Record<string, new (input: unknown) => SendableCommand>;

/** The recorded answer, where the recorder's placeholders (`<uuid:1>`, `<rule-name>`) match any text. */
function sameAsRecorded(expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'string') {
    if (typeof actual !== 'string') return false;
    const pattern = expected
      .split(/<[a-z-]+(?::\d+)?>/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.+');
    return new RegExp(`^${pattern}$`, 's').test(actual);
  }
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => sameAsRecorded(e, actual[i]))
    );
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return false;
    const got = Object.entries(actual).filter(([k, v]) => v !== undefined && k !== '$metadata');
    const keys = Object.keys(expected);
    return (
      keys.length === got.length &&
      keys.every((k) =>
        sameAsRecorded((expected as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k]),
      )
    );
  }
  return expected === actual;
}

/** The address text of `hex` (8 digits: IPv4, 32: IPv6), or undefined when out of the family's range. */
function addressOf(value: bigint, digits: number): string | undefined {
  if (value < 0n || value >= 1n << BigInt(digits * 4)) return undefined;
  const hex = value.toString(16).padStart(digits, '0');
  if (digits === 8) return (hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)).join('.');
  return (hex.match(/.{4}/g) ?? []).join(':');
}

const EVENT = {
  id: '1',
  source: 'test',
  'detail-type': 'test',
  account: '123456789012',
  region: 'us-east-1',
  time: '2026-01-01T00:00:00Z',
  resources: [],
};

describe('EventBridge as AWS answers', () => {
  let h: Harness;
  const routes: RouteLog[] = [];
  before(async () => {
    h = await startHarness({ events: { delivery: () => {}, route: (log) => routes.push(log) } });
  });
  after(async () => {
    await h.close();
  });

  const matches = async (pattern: unknown, ip: string) => {
    const out = await h.events.send(
      new TestEventPatternCommand({
        EventPattern: JSON.stringify(pattern),
        Event: JSON.stringify({ ...EVENT, detail: { ip } }),
      }),
    );
    return out.Result;
  };

  for (const c of corpus.cases) {
    it(`cidr ${c.cidr} covers ${c.bottom} .. ${c.top}`, async () => {
      const digits = c.bottom.length;
      const bottom = BigInt(`0x${c.bottom}`);
      const top = BigInt(`0x${c.top}`);
      const pattern = { detail: { ip: [{ cidr: c.cidr }] } };
      for (const [value, inside] of [
        [bottom, true],
        [top, true],
        [bottom - 1n, false],
        [top + 1n, false],
      ] as const) {
        const ip = addressOf(value, digits);
        if (ip === undefined) continue;
        assert.equal(await matches(pattern, ip), inside, `${ip} ${inside ? 'inside' : 'outside'} ${c.cidr}`);
      }
    });
  }

  it('refuses a numeric range whose bottom is not below its top', async () => {
    for (const range of [
      ['>', 10, '<', 5],
      ['>=', 5, '<=', 5],
    ]) {
      await assert.rejects(
        h.events.send(
          new TestEventPatternCommand({
            EventPattern: JSON.stringify({ detail: { n: [{ numeric: range }] } }),
            Event: JSON.stringify({ ...EVENT, detail: { n: 5 } }),
          }),
        ),
        (e: Error) =>
          e instanceof InvalidEventPatternException && /Bottom must be less than top/.test(e.message),
      );
    }
  });

  for (const c of api.cases)
    it(`${c.op} answers as recorded [${c.test.split('::').slice(1).join('::')}]`, async () => {
      const Command = commands[`${c.op}Command`];
      assert.ok(Command, `the SDK has no ${c.op}Command`);
      try {
        const out = await h.events.send(new Command(c.input));
        assert.ok(c.output, `expected ${c.error?.Code}, got ${JSON.stringify(out)}`);
        assert.ok(
          sameAsRecorded(c.output, out),
          `recorded ${JSON.stringify(c.output)}, got ${JSON.stringify(out)}`,
        );
      } catch (e) {
        const error = e as Error & { $metadata?: { httpStatusCode?: number } };
        if (!c.error) throw error;
        assert.equal(error.name, c.error.Code);
        assert.ok(
          sameAsRecorded(c.error.Message, error.message),
          `recorded "${c.error.Message}", got "${error.message}"`,
        );
        assert.equal(error.$metadata?.httpStatusCode, c.error.HTTPStatusCode);
      }
    });

  it('accepts PutEvents to a bus that does not exist, as EventBridge does, and warns that AWS would drop it', async () => {
    const out = await h.events.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: 'no-such-bus', Source: 's', DetailType: 'x', Detail: '{}' }],
      }),
    );
    assert.equal(out.FailedEntryCount, 0);
    const id = out.Entries?.[0]?.EventId;
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    const warning = routes.find((r) => r.event.id === id);
    assert.equal(warning?.outcome, 'no-bus');
    assert.match(
      warning?.error ?? '',
      /no-such-bus does not exist; EventBridge would accept this entry and silently drop it/,
    );
  });
});
