import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PayloadValidator } from '../../common/payload-schema.ts';
import {
  chunkEntries,
  entrySize,
  eventIdFor,
  isRetryableCode,
  MAX_ENTRY_BYTES,
  payloadHash,
  uuidV5,
} from '../../common/publish.ts';
import {
  arnMatches,
  authorize,
  identifyCaller,
  type PublisherDirectory,
  roleArnOf,
} from '../../common/publishers.ts';
import { closestNames } from '../../common/suggest.ts';
import { contextClaims } from '../../functions/publish/jwt-authorizer.ts';

describe('event ids', () => {
  it('computes name-based UUIDs (version 5) as RFC 4122 defines them', () => {
    // The RFC's DNS namespace example.
    assert.equal(
      uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('derives a stable id per (publisher, event, key) and a random one without a key', () => {
    assert.equal(eventIdFor('P', 'a.b', 'k'), eventIdFor('P', 'a.b', 'k'));
    assert.notEqual(eventIdFor('P', 'a.b', 'k'), eventIdFor('P', 'a.c', 'k'));
    // Another publisher's key never lands on this publisher's event: keys belong to their publisher.
    assert.notEqual(eventIdFor('P', 'a.b', 'k'), eventIdFor('Q', 'a.b', 'k'));
    assert.notEqual(eventIdFor('P', 'a.b'), eventIdFor('P', 'a.b'));
    assert.match(
      eventIdFor('P', 'a.b', 'k'),
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('hashes a payload the same whatever the order of its keys', () => {
    assert.equal(
      payloadHash({ a: 1, b: [1, { c: 2, d: 3 }] }),
      payloadHash({ b: [1, { d: 3, c: 2 }], a: 1 }),
    );
    assert.notEqual(payloadHash({ a: 1 }), payloadHash({ a: 2 }));
  });
});

describe('PutEvents chunks', () => {
  const entry = (bytes: number) => ({ Source: 's', DetailType: 'd', Detail: 'x'.repeat(bytes - 2) });

  it('counts an entry as EventBridge does (UTF-8 bytes; 14 for Time)', () => {
    assert.equal(entrySize({ Source: 'ab', DetailType: 'é', Detail: '{}' }), 2 + 2 + 2);
    assert.equal(entrySize({ Source: 'a', Time: new Date(0) }), 15);
  });

  it('puts at most 10 entries and 1 MB in one call', () => {
    const small = Array.from({ length: 23 }, () => entry(100));
    assert.deepEqual(
      chunkEntries(
        small,
        small.map((_, i) => i),
      ).map((chunk) => chunk.length),
      [10, 10, 3],
    );
    const big = [entry(600_000), entry(600_000), entry(300_000), entry(MAX_ENTRY_BYTES)];
    assert.deepEqual(chunkEntries(big, [0, 1, 2, 3]), [[0], [1, 2], [3]]);
  });

  it('retries throttling and internal failures, not refusals', () => {
    assert.equal(isRetryableCode('ThrottlingException'), true);
    assert.equal(isRetryableCode('InternalFailure'), true);
    assert.equal(isRetryableCode('AccessDeniedException'), false);
    assert.equal(isRetryableCode('MalformedDetail'), false);
  });
});

describe('closest event names', () => {
  const known = [
    'card.transaction.authorized',
    'card.transaction.settled',
    'receipt.uploaded',
    'expense.report.approved',
  ];
  it('ranks the likeliest typo first', () => {
    assert.equal(closestNames('card.transaction.authorised', known)[0], 'card.transaction.authorized');
    assert.equal(closestNames('reciept.uploaded', known)[0], 'receipt.uploaded');
    assert.equal(closestNames('report.approved', known)[0], 'expense.report.approved');
    assert.equal(closestNames('x', known).length, 3);
  });
});

describe('payload validation', () => {
  const validator = new PayloadValidator({
    e: {
      type: 'object',
      required: ['id', 'a/b'],
      properties: {
        id: { type: 'string' },
        'a/b': { type: 'integer' },
        kind: { enum: ['x', 'y'] },
        at: { type: 'string', format: 'date-time' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
        extra: { type: 'object', additionalProperties: { type: 'number' } },
      },
    },
  });
  const messages = (payload: unknown) =>
    Object.fromEntries(
      validator.validate('e', payload).map((violation) => [violation.pointer, violation.message]),
    );

  it('reports each violation once, at a JSON pointer, with the constraint in the message', () => {
    assert.deepEqual(messages({ id: 7, kind: 'z', at: 'noon', tags: ['a', 1, 'c'], extra: { n: 'one' } }), {
      '/id': 'must be string',
      '/a~1b': 'is required',
      '/kind': 'must be one of "x", "y"',
      '/at': 'must be a valid date-time',
      '/tags/1': 'must be string',
      '/tags': 'must have at most 2 items',
      '/extra/n': 'must be number',
    });
  });

  it('accepts a valid payload and says which event it does not know', () => {
    assert.deepEqual(validator.validate('e', { id: 'i', 'a/b': 1 }), []);
    assert.throws(() => validator.validate('nope', {}), /No schema for event "nope"/);
  });
});

describe('callers and publishers', () => {
  const directory: PublisherDirectory = {
    publishers: [
      {
        name: 'CardNetwork',
        source: 'event-router.cardflow.card-network',
        events: ['card.transaction.authorized'],
        identity: { kind: 'iam', principal: 'arn:aws:iam::*:role/card-*' },
      },
    ],
    eventPublishers: {
      'card.transaction.authorized': ['CardNetwork'],
      'ledger.entry.recorded': ['LedgerService/RecordTransaction'],
    },
  };

  it('matches an assumed-role session against a role ARN pattern', () => {
    assert.equal(
      roleArnOf('arn:aws:sts::123456789012:assumed-role/card-gw/s1'),
      'arn:aws:iam::123456789012:role/card-gw',
    );
    assert.equal(
      arnMatches('arn:aws:iam::*:role/card-*', 'arn:aws:sts::123456789012:assumed-role/card-gw/s1'),
      true,
    );
    assert.equal(
      arnMatches('arn:aws:iam::*:role/card-*', 'arn:aws:sts::123456789012:assumed-role/cards/s1'),
      false,
    );
    // `*` is the only wildcard: regex characters in the pattern are literal
    assert.equal(arnMatches('arn:aws:iam::1:role/a.b', 'arn:aws:iam::1:role/aXb'), false);
  });

  it('a local request naming no publisher acts as the declared external publisher, never as an RPC', () => {
    const caller = identifyCaller({ authorizer: { localPublisher: '' } }, directory);
    assert.equal(caller.localDefault, true);
    const own = authorize(caller, 'card.transaction.authorized', directory);
    assert.equal(own.ok && own.publisher.name, 'CardNetwork');
    const followUp = authorize(caller, 'ledger.entry.recorded', directory);
    assert.equal(followUp.ok, false);
    assert.match(
      followUp.ok ? '' : followUp.message,
      /only be published by LedgerService\/RecordTransaction/,
    );
  });

  it('passes on only the claims publishers are recognized by, never the local caller key', () => {
    assert.deepEqual(
      contextClaims({ sub: 'u', client_id: 'app', scope: ['a', 'b'], localPublisher: 'CardNetwork' }, [
        'client_id',
        'scope',
        'localPublisher',
      ]),
      { client_id: 'app', scope: 'a b' },
    );
  });
});
