/**
 * Pattern behaviour beyond the recorded conformance cases: arrays of objects, IP addresses, wildcard
 * escapes and complexity, `$or` branches, problem paths, and the rule pattern of a subscription.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compilePattern,
  findPatternProblems,
  MAX_PATTERN_LENGTH,
  matchesPattern,
  rulePatternFor,
  validatePattern,
} from '../../lib/patterns/index.ts';

describe('arrays of objects', () => {
  const pattern = { detail: { items: { sku: ['A'], qty: [{ numeric: ['>', 5] }] } } };

  it('matches when one element satisfies every field', () => {
    const event = {
      detail: {
        items: [
          { sku: 'B', qty: 1 },
          { sku: 'A', qty: 9 },
        ],
      },
    };
    assert.equal(matchesPattern(pattern, event), true);
  });

  it('does not combine fields taken from different elements', () => {
    const event = {
      detail: {
        items: [
          { sku: 'A', qty: 1 },
          { sku: 'B', qty: 9 },
        ],
      },
    };
    assert.equal(matchesPattern(pattern, event), false);
  });

  it('treats an array of scalars as any-of', () => {
    assert.equal(matchesPattern({ tags: ['x'] }, { tags: ['a', 'x'] }), true);
    assert.equal(matchesPattern({ tags: ['x'] }, { tags: [['a'], ['x']] }), true);
    assert.equal(matchesPattern({ tags: ['x'] }, { tags: [] }), false);
  });
});

describe('values', () => {
  it('compares numbers numerically and never equal to strings', () => {
    assert.equal(matchesPattern({ n: [300] }, { n: 300.0 }), true);
    assert.equal(matchesPattern({ n: [300] }, { n: '300' }), false);
    assert.equal(matchesPattern({ n: ['300'] }, { n: 300 }), false);
  });

  it('matches an IP literal in any spelling', () => {
    assert.equal(
      matchesPattern({ ip: ['2001:db8::1'] }, { ip: '2001:0db8:0000:0000:0000:0000:0000:0001' }),
      true,
    );
    assert.equal(matchesPattern({ ip: ['10.0.0.1'] }, { ip: '10.0.0.2' }), false);
  });

  it('matches CIDR blocks of the same family only', () => {
    const p = { ip: [{ cidr: '10.0.0.0/8' }] };
    assert.equal(matchesPattern(p, { ip: '10.255.3.4' }), true);
    assert.equal(matchesPattern(p, { ip: '11.0.0.0' }), false);
    assert.equal(matchesPattern(p, { ip: '::a00:1' }), false);
  });

  it('numeric ranges need a number inside the limits', () => {
    const p = { n: [{ numeric: ['>=', 0, '<', 10] }] };
    assert.equal(matchesPattern(p, { n: 0 }), true);
    assert.equal(matchesPattern(p, { n: 10 }), false);
    assert.equal(matchesPattern({ n: [{ numeric: ['>', 0] }] }, { n: 6e9 }), false);
  });

  it('exists: true needs a leaf value, null included', () => {
    assert.equal(matchesPattern({ a: [{ exists: true }] }, { a: null }), true);
    assert.equal(matchesPattern({ a: [{ exists: true }] }, { a: { b: 1 } }), false);
    assert.equal(matchesPattern({ a: [{ exists: false }] }, { a: { b: 1 } }), true);
  });

  it('wildcards honour escapes and match across separators', () => {
    assert.equal(matchesPattern({ f: [{ wildcard: 'a\\*b*' }] }, { f: 'a*bcd' }), true);
    assert.equal(matchesPattern({ f: [{ wildcard: 'a\\*b*' }] }, { f: 'axbcd' }), false);
    assert.equal(matchesPattern({ f: [{ wildcard: '*/x' }] }, { f: 'a/b\n/x' }), true);
  });

  it('equals-ignore-case variants of prefix and suffix', () => {
    assert.equal(matchesPattern({ s: [{ prefix: { 'equals-ignore-case': 'ab' } }] }, { s: 'ABc' }), true);
    assert.equal(matchesPattern({ s: [{ suffix: { 'equals-ignore-case': '.PNG' } }] }, { s: 'x.png' }), true);
    assert.equal(matchesPattern({ s: [{ prefix: 'ab' }] }, { s: 'ABc' }), false);
  });
});

describe('$or', () => {
  it('matches when any branch matches, combined with the fields beside it', () => {
    const p = { source: ['s'], detail: { $or: [{ a: [1] }, { b: [2] }] } };
    const match = compilePattern(p);
    assert.equal(match({ source: 's', detail: { b: 2 } }), true);
    assert.equal(match({ source: 's', detail: { c: 2 } }), false);
    assert.equal(match({ source: 't', detail: { a: 1 } }), false);
  });

  it('needs at least two objects and no operator names as fields', () => {
    assert.deepEqual(validatePattern({ $or: [{ a: [1] }] }), [
      'There must have at least 2 Objects in $or relationship.',
    ]);
    assert.match(validatePattern({ $or: [{ prefix: ['a'] }, { b: [1] }] })[0] ?? '', /reserved fieldName/);
  });
});

describe('validation', () => {
  it('reports every problem with the path of the offending part', () => {
    const problems = findPatternProblems({
      payload: { amount: 5, currency: [], kind: [{ prefx: 'a' }] },
    });
    assert.deepEqual(problems, [
      { message: '"amount" must be an object or an array', path: ['payload', 'amount'] },
      { message: 'Empty arrays are not allowed', path: ['payload', 'currency'] },
      { message: 'Unrecognized match type prefx', path: ['payload', 'kind', 0, 'prefx'] },
    ]);
  });

  it('rejects a second key in a match expression and odd numeric forms', () => {
    assert.deepEqual(validatePattern({ a: [{ prefix: 'x', suffix: 'y' }] }), [
      'Only one key allowed in match expression',
    ]);
    assert.deepEqual(validatePattern({ a: [{ numeric: ['<', 5, '>', 1] }] }), [
      'Too many elements in numeric expression',
    ]);
    assert.deepEqual(validatePattern({ a: [{ numeric: ['>', 6e9] }] }), [
      'Value must be between -5000000000 and 5000000000, inclusive',
    ]);
    assert.deepEqual(validatePattern({ a: [{ cidr: '10.0.0.0/32' }] }), ['IPv4 mask bits must be < 32']);
    assert.deepEqual(validatePattern({ a: [{ wildcard: 'a\\b' }] }), ['Invalid escape character at pos 2']);
  });

  it('rejects mixed anything-but lists and accepts a few simple wildcards on one field', () => {
    assert.match(
      validatePattern({ a: [{ 'anything-but': ['x', 1] }] })[0] ?? '',
      /mixed type is not supported/,
    );
    assert.deepEqual(validatePattern({ key: [{ wildcard: '*.png' }, { wildcard: '*.jpg' }] }), []);
  });

  it('limits wildcard complexity per field, counting a repeated wildcard once', () => {
    const tooComplex =
      'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character';
    assert.deepEqual(validatePattern({ f: [{ wildcard: '*:*:*:*:*:bus/*' }] }), [tooComplex]);
    const same = { wildcard: '*a*b*' };
    assert.deepEqual(validatePattern({ $or: [{ f: [same, same] }, { f: [same], g: [1] }] }), []);
  });
});

describe('rulePatternFor', () => {
  it('puts the publishers in source, the event name in detail-type and the filter under detail', () => {
    assert.deepEqual(rulePatternFor('card.transaction.authorized', ['event-router.cardflow.card-network']), {
      source: ['event-router.cardflow.card-network'],
      'detail-type': ['card.transaction.authorized'],
    });
    assert.deepEqual(rulePatternFor('a.b', ['s1', 's2'], { payload: { x: [1] } }), {
      source: ['s1', 's2'],
      'detail-type': ['a.b'],
      detail: { payload: { x: [1] } },
    });
    assert.equal(MAX_PATTERN_LENGTH, 2048);
  });

  it('refuses an event with no publisher (a rule without a source would match any sender)', () => {
    assert.throws(() => rulePatternFor('a.b', []), /no publisher/);
  });

  it('matches the bus event of a subscription, only from a declared source', () => {
    const match = compilePattern(
      rulePatternFor('a.b', ['event-router.cardflow'], { payload: { amount: [{ numeric: ['>=', 7500] }] } }),
    );
    const event = (name: string, amount: number, source = 'event-router.cardflow') => ({
      'detail-type': name,
      source,
      detail: { metadata: { eventId: 'e1' }, payload: { amount } },
    });
    assert.equal(match(event('a.b', 7500)), true);
    assert.equal(match(event('a.b', 7499)), false);
    assert.equal(match(event('a.c', 9000)), false);
    assert.equal(match(event('a.b', 9000, 'event-router.cardflow.forged')), false);
  });
});
