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
