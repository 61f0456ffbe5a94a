/**
 * The unit-test cases of AWS's own matching library (aws/event-ruler, RulerTest) in
 * test/conformance/event-ruler-matches.json, replayed against the pattern engine: each rule is a valid
 * pattern and matches (or not) its event as event-ruler asserts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { matchesPattern, validatePattern } from '../../lib/patterns/index.ts';

interface RulerCase {
  readonly test: string;
  readonly label: string;
  readonly event: Record<string, unknown>;
  readonly rule: unknown;
  readonly matches: boolean;
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const file = join(projectRoot, 'test', 'conformance', 'event-ruler-matches.json');
const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: RulerCase[] };

describe('event-ruler match cases', () => {
  it('holds the cases copied from RulerTest', () => {
    assert.equal(cases.length, 59);
  });

  for (const c of cases)
    it(`${c.test.replace('RulerTest.', '')} ${c.label} (${c.matches ? 'match' : 'no match'})`, () => {
      assert.deepEqual(validatePattern(c.rule), []);
      assert.equal(
        matchesPattern(c.rule, c.event),
        c.matches,
        JSON.stringify({ rule: c.rule, event: c.event }),
      );
    });
});
