/** How `event-router status` prints dead deliveries. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatStatus } from '../../lib/cli/commands/status.ts';

function deadStatus(attempts: number) {
  return formatStatus({
    eventId: 'poison-0001',
    event: 'card.transaction.settled',
    completed: false,
    summary: { PENDING: 0, IN_PROGRESS: 0, COMPLETED: 0, FAILED: 0, DEAD: 1 },
    rpcs: [
      {
        rpc: 'LedgerService/SettleTransaction',
        status: 'DEAD',
        attempts,
        deadAt: '2026-11-25T11:13:25.889Z',
        lastError: {
          name: 'SchemaViolation',
          message: 'payload.currency: must match pattern',
          retryable: false,
        },
      },
    ],
  });
}

describe('status output', () => {
  it('says a poison message went to the DLQ without running the RPC, not "after 0 attempts"', () => {
    const text = deadStatus(0);
    assert.match(
      text,
      /DEAD {9}in the DLQ since 2026-11-25T11:13:25\.889Z without running the RPC; SchemaViolation/,
    );
    assert.doesNotMatch(text, /0 attempts/);
  });

  it('counts the attempts of a delivery that ran and failed', () => {
    assert.match(deadStatus(5), /in the DLQ since \S+ after 5 attempts; SchemaViolation/);
    assert.match(deadStatus(1), /after 1 attempt;/);
  });
});
