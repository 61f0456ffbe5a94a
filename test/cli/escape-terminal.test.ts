/**
 * Text from events reaches the terminal escaped: the dev log lines, `status` and `dlq peek` print
 * control characters (ANSI escapes, carriage returns, bidi overrides) as visible escapes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventStatus } from '../../common/status.ts';
import { describeDeadLetter } from '../../lib/cli/commands/dlq.ts';
import { formatStatus } from '../../lib/cli/commands/status.ts';
import { escapeTerminal } from '../../lib/cli/escape-terminal.ts';
import { formatDelivery, formatRoute, terminalEvents } from '../../lib/cli/present/terminal-log.ts';

const HOSTILE = 'evt\u001b[2J\u001b]0;pwned\u0007\rfake\u202eline\u009b31m';
// No raw ESC, BEL, CR, CSI or bidi override may be printed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e]/;

function withoutColour(text: string): string {
  // The log's own colours (when stdout is a terminal) are the only escapes allowed.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return text.replace(/\u001b\[\d+m/g, '');
}

describe('escapeTerminal', () => {
  it('writes every control character as an escape and keeps the rest', () => {
    assert.equal(escapeTerminal(HOSTILE), 'evt\\x1b[2J\\x1b]0;pwned\\x07\\rfake\\u202eline\\x9b31m');
    assert.equal(escapeTerminal('tab\tand ünïcode ✓'), 'tab\tand ünïcode ✓');
  });
});

describe('event data on the terminal', () => {
  it('the dev log escapes ids, names and errors of deliveries, routes and function output', () => {
    const delivery = formatDelivery({
      functionName: 'f',
      rpc: `Svc/${HOSTILE}`,
      eventName: HOSTILE,
      eventId: HOSTILE,
      messageId: 'm',
      outcome: 'failed',
      attempt: 1,
      ms: 3,
      error: HOSTILE,
    } as Parameters<typeof formatDelivery>[0]);
    assert.doesNotMatch(withoutColour(delivery), RAW_CONTROL);
    assert.match(delivery, /\\x1b\[2J/);
    const route = formatRoute({
      event: {
        version: '0',
        id: 'id',
        'detail-type': HOSTILE,
        source: 's',
        account: '0',
        time: 't',
        region: 'r',
        resources: [],
        detail: { metadata: { eventId: HOSTILE } },
      },
      rule: 'r',
      targetArn: 'arn:aws:sqs:r:0:q',
      outcome: 'retrying',
      attempt: 1,
      error: HOSTILE,
    });
    assert.doesNotMatch(withoutColour(route ?? ''), RAW_CONTROL);
    const lines: string[] = [];
    terminalEvents({ verbose: true, write: (line) => lines.push(line) }).functionOutput?.(
      'f',
      'stdout',
      HOSTILE,
    );
    assert.doesNotMatch(withoutColour(lines.join('')), RAW_CONTROL);
  });

  it('status escapes the eventId, correlationId and error texts', () => {
    const status = {
      eventId: HOSTILE,
      event: HOSTILE,
      correlationId: HOSTILE,
      completed: false,
      summary: { PENDING: 0, IN_PROGRESS: 0, COMPLETED: 0, FAILED: 1, DEAD: 0 },
      rpcs: [
        {
          rpc: 'Svc/Method',
          status: 'FAILED',
          attempts: 2,
          lastError: { name: HOSTILE, message: HOSTILE },
        },
      ],
    } as unknown as EventStatus;
    const text = formatStatus(status);
    for (const line of text.split('\n')) assert.doesNotMatch(line, RAW_CONTROL);
    assert.match(text, /Event evt\\x1b\[2J/);
  });

  it('dlq peek escapes the event, the id and the reason attributes', () => {
    const text = describeDeadLetter({
      MessageId: 'm-1',
      Body: JSON.stringify({
        rpc: 'Svc/M',
        event: { 'detail-type': HOSTILE, detail: { metadata: { eventId: HOSTILE } } },
      }),
      MessageAttributes: { ERROR_MESSAGE: { DataType: 'String', StringValue: HOSTILE } },
      Attributes: { ApproximateReceiveCount: '1' },
    });
    for (const line of text.split('\n')) assert.doesNotMatch(line, RAW_CONTROL);
    assert.match(text, /ERROR_MESSAGE: evt\\x1b\[2J/);
  });
});
