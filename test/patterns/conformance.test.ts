/**
 * Every recorded EventBridge answer in test/conformance/eventbridge-patterns.json, replayed:
 * invalid patterns are rejected with EventBridge's message, valid ones match exactly as recorded.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  compilePattern,
  invalidPatternMessage,
  matchesPattern,
  validatePattern,
} from '../../lib/patterns/index.ts';

interface ConformanceCase {
  readonly name: string;
  readonly expect: 'match' | 'no-match' | 'invalid';
  readonly event: Record<string, unknown>;
  readonly pattern: unknown;
  readonly awsError?: string;
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const file = join(projectRoot, 'test', 'conformance', 'eventbridge-patterns.json');
const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: ConformanceCase[] };

describe('EventBridge pattern conformance', () => {
  it('has all 155 recorded cases', () => {
    assert.equal(cases.length, 155);
  });

  describe('invalid patterns are rejected with EventBridge wording', () => {
    for (const c of cases.filter((c) => c.expect === 'invalid')) {
      it(c.name, () => {
        const problems = validatePattern(c.pattern);
        assert.ok(problems.length > 0, `expected ${JSON.stringify(c.pattern)} to be rejected`);
        assert.equal(invalidPatternMessage(problems), c.awsError);
        assert.throws(() => compilePattern(c.pattern), { message: c.awsError });
      });
    }
  });

  describe('valid patterns match as EventBridge does', () => {
    for (const c of cases.filter((c) => c.expect !== 'invalid')) {
      it(`${c.name} (${c.expect})`, () => {
        assert.deepEqual(validatePattern(c.pattern), []);
        assert.equal(matchesPattern(c.pattern, c.event), c.expect === 'match');
      });
    }
  });
});
