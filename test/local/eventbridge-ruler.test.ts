/**
 * Event-pattern facts from AWS's own matching library (aws/event-ruler) replayed through TestEventPattern
 * of the local runtime with a real SDK client: the range each CIDR block covers (host bits in the
 * address as written do not narrow it), and numeric ranges whose bottom is not below their top.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvalidEventPatternException, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
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

describe('event patterns as event-ruler computes them', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
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
});
