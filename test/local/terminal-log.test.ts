/** What the dev terminal shows of a function's output. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOutcomeLine, terminalEvents } from '../../lib/cli/present/terminal-log.ts';

const outcomeLine = JSON.stringify({
  level: 'WARN',
  message: 'Handler failed; the delivery will be retried',
  rpc: 'MailService/SendReceipt',
  messageId: 'd0936107',
  outcome: 'failed',
});
const handlerLine = JSON.stringify({ level: 'ERROR', message: 'SMTP refused', messageId: 'x' });

describe('terminal output of functions', () => {
  it('recognises the worker outcome line and nothing else', () => {
    assert.equal(isOutcomeLine(outcomeLine), true);
    assert.equal(isOutcomeLine(handlerLine), false);
    assert.equal(isOutcomeLine('{"outcome": broken'), false);
    assert.equal(isOutcomeLine('Error: boom "outcome"'), false);
  });

  it('hides the outcome lines the delivery line already tells, unless --verbose', () => {
    const quiet: string[] = [];
    const events = terminalEvents({ verbose: false, write: (line) => quiet.push(line) });
    events.functionOutput?.('fn', 'stderr', outcomeLine);
    events.functionOutput?.('fn', 'stderr', handlerLine);
    events.functionOutput?.('fn', 'stdout', 'hello');
    assert.equal(quiet.length, 1);
    assert.match(quiet[0] ?? '', /SMTP refused/);

    const loud: string[] = [];
    const verbose = terminalEvents({ verbose: true, write: (line) => loud.push(line) });
    verbose.functionOutput?.('fn', 'stderr', outcomeLine);
    verbose.functionOutput?.('fn', 'stdout', 'hello');
    assert.equal(loud.length, 2);
  });
});
