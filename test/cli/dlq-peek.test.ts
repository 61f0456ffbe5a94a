/** How `dlq peek` prints one dead letter. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDeadLetter } from '../../lib/cli/commands/dlq.ts';

describe('dlq peek output', () => {
  it('shows the event, the receive count with the peek counted, and the reason attributes', () => {
    const text = describeDeadLetter({
      MessageId: 'm-1',
      Body: JSON.stringify({
        rpc: 'MailService/SendReceipt',
        event: { 'detail-type': 'order.placed', detail: { metadata: { eventId: 'e-1' } } },
      }),
      Attributes: {
        SentTimestamp: String(Date.parse('2026-11-25T11:08:38.554Z')),
        ApproximateReceiveCount: '1',
      },
      MessageAttributes: {
        ErrorType: { DataType: 'String', StringValue: 'Error' },
        Attempts: { DataType: 'Number', StringValue: '5' },
      },
    });
    assert.equal(
      text,
      [
        'm-1  order.placed e-1',
        '    sent 2026-11-25T11:08:38.554Z, receive count 1 (this peek included)',
        '    ErrorType: Error',
        '    Attempts: 5',
      ].join('\n'),
    );
    assert.doesNotMatch(text, /1 times/);
  });
});

describe('dlq peek output of a handler that threw', () => {
  it('prints ErrorStack one frame a line, escaped', () => {
    const text = describeDeadLetter({
      MessageId: 'm-2',
      Body: '{}',
      Attributes: { SentTimestamp: '0', ApproximateReceiveCount: '1' },
      MessageAttributes: {
        ErrorType: { DataType: 'String', StringValue: 'TypeError' },
        ErrorStack: {
          DataType: 'String',
          StringValue: 'at shout (functions/rpcs/a/b.ts:5:16)\nat fn (functions/rpcs/a/b\u001b[2J.ts:9:18)',
        },
      },
    });
    assert.match(
      text,
      /\n {4}ErrorStack:\n {6}at shout \(functions\/rpcs\/a\/b\.ts:5:16\)\n {6}at fn \(functions\/rpcs\/a\/b\\x1b\[2J\.ts:9:18\)$/,
    );
  });
});
