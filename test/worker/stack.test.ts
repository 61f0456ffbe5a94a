/** The bounded stack the worker keeps of a failed attempt, and the terminal's view of it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_STACK_CHARS, sanitizeAttribute, trimStack, userFrames } from '../../common/stack.ts';
import { deadLetterAttributes } from '../../functions/commons/dead-letters.ts';
import { summarizeError } from '../../functions/commons/errors.ts';
import { formatStack } from '../../lib/cli/present/terminal-log.ts';
import { copiedAttributes, type DeadLetter } from '../../lib/ops/dead-letter.ts';

const ROOT = '/home/dev/shop';

const STACK = `TypeError: Cannot read properties of undefined (reading 'toUpperCase')
    at shout (file:///home/dev/shop/functions/rpcs/receipts/ocr.ts:12:7)
    at fn (/home/dev/shop/functions/rpcs/receipts/ocr.ts:20:3)
    at parse (/home/dev/shop/node_modules/some-lib/index.js:1:100)
    at Object.run (/home/dev/shop/functions/commons/rpc.ts:76:16)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
    at async Promise.all (index 0)
    at new Promise (<anonymous>)`;

describe('trimStack', () => {
  it('keeps frames only, drops node_modules and Node frames, and makes paths relative to the project', () => {
    assert.equal(
      trimStack(STACK, { root: ROOT }),
      [
        'at shout (functions/rpcs/receipts/ocr.ts:12:7)',
        'at fn (functions/rpcs/receipts/ocr.ts:20:3)',
        'at Object.run (functions/commons/rpc.ts:76:16)',
        'at async Promise.all (index 0)',
      ].join('\n'),
    );
  });

  it('is bounded in frames and characters', () => {
    const long = Array.from(
      { length: 50 },
      (_, i) => `    at f${i} (${ROOT}/functions/rpcs/a/b.ts:${i + 1}:1)`,
    );
    const stack = trimStack(['Error: x', ...long].join('\n'), { root: ROOT }) ?? '';
    assert.equal(stack.split('\n').length, 10);
    const wide = Array.from({ length: 10 }, (_, i) => `    at f${i} (${ROOT}/${'d/'.repeat(150)}x.ts:1:1)`);
    const cut = trimStack(['Error: x', ...wide].join('\n'), { root: ROOT }) ?? '';
    assert.ok(cut.length <= MAX_STACK_CHARS, `${cut.length} chars`);
    assert.ok(cut.split('\n').length >= 1 && cut.split('\n').length < 10);
  });

  it('on Lambda, drops the leading slash of source paths resolved above the task root', () => {
    const lambda = 'Error: x\n    at fn (/functions/rpcs/a.ts:3:9)\n    at h (/var/task/index.mjs:1:2000)';
    assert.equal(
      trimStack(lambda, { root: '/var/task', dropLeadingSlash: true }),
      'at fn (functions/rpcs/a.ts:3:9)\nat h (index.mjs:1:2000)',
    );
  });

  it('finds the project file a source path resolved one directory off names', () => {
    const off = 'Error: x\n    at fn (/home/dev/functions/rpcs/a.ts:3:9)';
    const locate = (path: string) =>
      path.endsWith('/functions/rpcs/a.ts') ? 'functions/rpcs/a.ts' : undefined;
    assert.equal(trimStack(off, { root: ROOT, locate }), 'at fn (functions/rpcs/a.ts:3:9)');
  });

  it('gives undefined for no stack or no frames left', () => {
    assert.equal(trimStack(undefined), undefined);
    assert.equal(trimStack('Error: x\n    at x (node:internal/a:1:1)'), undefined);
  });
});

describe('the stack of a thrown error', () => {
  it('is kept when asked (an error the RPC threw), never for a reason the worker gives', () => {
    const error = new TypeError('boom');
    assert.match(summarizeError(error, true).stack ?? '', /^at .*stack\.test\.ts:\d+:\d+/);
    assert.equal(summarizeError(error).stack, undefined);
    assert.equal(summarizeError('not an error', true).stack, undefined);
  });

  it('goes to the DLQ as the ErrorStack attribute, without control characters SQS refuses', () => {
    const attributes = deadLetterAttributes({
      body: '{}',
      error: {
        name: 'Error',
        message: 'bad \u0000 byte\u001b[2J',
        retryable: true,
        stack: 'at f (a.ts:1:1)\u0007',
      },
      rpc: 'A/B',
      attempts: 1,
      failedAt: 0,
      deadLetterId: 'd-1',
    });
    assert.equal(attributes.ErrorStack?.StringValue, 'at f (a.ts:1:1)?');
    assert.equal(attributes.ErrorMessage?.StringValue, 'bad ? byte?[2J');
  });

  it('keeps tab, newline and carriage return in an attribute, replaces other controls and lone surrogates', () => {
    assert.equal(sanitizeAttribute('a\tb\nc\rd\u0001e\ud800f'), 'a\tb\nc\rd?e?f');
  });

  it('is the first attribute a copy drops when the 10-attribute limit is reached', () => {
    const names = [
      'ErrorType',
      'ErrorMessage',
      'ErrorStack',
      'Rpc',
      'EventId',
      'Attempts',
      'FailedAt',
      'DeadLetterId',
    ];
    const letter = {
      attributes: Object.fromEntries(names.map((n) => [n, { DataType: 'String', StringValue: n }])),
    } as unknown as DeadLetter;
    const copy = copiedAttributes(letter, { RerunId: 'r', EditedFrom: 'm', EditedBy: 'me' });
    assert.equal(Object.keys(copy).length, 10);
    assert.ok(!('ErrorStack' in copy));
    assert.ok('DeadLetterId' in copy && 'ErrorMessage' in copy);
  });
});

describe('the dev terminal', () => {
  const stack = trimStack(STACK, { root: ROOT });

  it('prints the top frames of the user code under a failed line, escaped', () => {
    assert.deepEqual(userFrames(stack), [
      'at shout (functions/rpcs/receipts/ocr.ts:12:7)',
      'at fn (functions/rpcs/receipts/ocr.ts:20:3)',
    ]);
    assert.deepEqual(formatStack({ stack }, false), [
      '    at shout (functions/rpcs/receipts/ocr.ts:12:7)',
      '    at fn (functions/rpcs/receipts/ocr.ts:20:3)',
    ]);
    assert.deepEqual(formatStack({ stack: 'at x (a\u001b[31m.ts:1:1)' }, false), [
      '    at x (a\\x1b[31m.ts:1:1)',
    ]);
  });

  it('prints the whole stack with --verbose, and nothing without a stack', () => {
    assert.equal(formatStack({ stack }, true).length, 4);
    assert.deepEqual(formatStack({}, false), []);
  });
});
