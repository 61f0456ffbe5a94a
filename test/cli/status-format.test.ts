/** How `event-router status` prints dead deliveries. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventStatus, RpcDeliveryState } from '../../common/status.ts';
import { exitCodeOf, formatStatus } from '../../lib/cli/commands/status.ts';

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

describe('status of an event a content filter kept from one subscriber', () => {
  const ledgerDone: RpcDeliveryState = {
    rpc: 'LedgerService/RecordTransaction',
    status: 'COMPLETED',
    attempts: 1,
  };
  const ledgerPending: RpcDeliveryState = { rpc: 'LedgerService/RecordTransaction', status: 'PENDING' };
  const receiptFiltered: RpcDeliveryState = {
    rpc: 'ReceiptService/RequestReceipt',
    status: 'PENDING',
    filtered: true,
  };

  function statusOf(rpcs: RpcDeliveryState[]): EventStatus {
    const count = (name: RpcDeliveryState['status']) => rpcs.filter((state) => state.status === name).length;
    return {
      eventId: 'ev-1',
      event: 'card.transaction.authorized',
      completed: count('COMPLETED') === rpcs.length,
      summary: {
        PENDING: count('PENDING'),
        IN_PROGRESS: count('IN_PROGRESS'),
        COMPLETED: count('COMPLETED'),
        FAILED: count('FAILED'),
        DEAD: count('DEAD'),
      },
      rpcs,
    };
  }

  it('is done (exit 0) once every unfiltered subscriber completed, and says why', () => {
    const done = statusOf([ledgerDone, receiptFiltered]);
    assert.equal(exitCodeOf(done), 0);
    assert.match(
      formatStatus(done),
      /1 of 2 completed; the other has a content filter and no delivery record/,
    );
  });

  it('is still pending (exit 3) while an unfiltered subscriber has not completed', () => {
    const waiting = statusOf([ledgerPending, receiptFiltered]);
    assert.equal(exitCodeOf(waiting), 3);
    assert.match(formatStatus(waiting), /0 of 2 completed$/);
  });
});

describe('status output of a handler that threw', () => {
  it('prints the recorded stack under the delivery, one frame a line, escaped', () => {
    const text = formatStatus({
      eventId: 'e-1',
      completed: false,
      summary: { PENDING: 0, IN_PROGRESS: 0, COMPLETED: 0, FAILED: 1, DEAD: 0 },
      rpcs: [
        {
          rpc: 'Echo/Say',
          status: 'FAILED',
          attempts: 1,
          updatedAt: '2026-11-25T11:13:25.889Z',
          lastError: {
            name: 'TypeError',
            message: 'x',
            retryable: true,
            stack:
              'at shout (functions/rpcs/echo/say.ts:5:16)\nat fn (functions/rpcs/echo/say\u001b[2J.ts:9:18)',
          },
        },
      ],
    });
    assert.match(
      text,
      /FAILED .*TypeError: x; will be retried\n {6}at shout \(functions\/rpcs\/echo\/say\.ts:5:16\)\n {6}at fn \(functions\/rpcs\/echo\/say\\x1b\[2J\.ts:9:18\)\n/,
    );
  });

  it('says, from the publish receipt, when the bus never accepted the event, and exits 4', async () => {
    const { withReceipt } = await import('../../common/status.ts');
    const pending: EventStatus = {
      eventId: 'e-9',
      event: 'card.transaction.settled',
      completed: false,
      summary: { PENDING: 1, IN_PROGRESS: 0, COMPLETED: 0, FAILED: 0, DEAD: 0 },
      rpcs: [{ rpc: 'LedgerService/SettleTransaction', status: 'PENDING' }],
    };
    const receipt = {
      eventId: 'e-9',
      rpc: '#publish' as const,
      eventName: 'card.transaction.settled',
      publisher: 'CardNetwork',
      payloadHash: 'h',
      idempotencyKey: 'k\u001b[2J',
      occurredAt: '2026-11-25T11:13:25.889Z',
      correlationId: 'c-9',
      publishedAt: 0,
      expiresAt: 0,
    };
    assert.equal(exitCodeOf(withReceipt(pending, receipt)), 3);
    const refused = withReceipt(pending, {
      ...receipt,
      notSent: {
        at: Date.parse('2026-11-25T11:13:26Z'),
        code: 'ThrottlingException',
        message: 'Rate exceeded',
        retryable: true,
      },
    });
    assert.equal(refused.correlationId, 'c-9');
    assert.equal(exitCodeOf(refused), 4);
    const text = formatStatus(refused);
    assert.match(text, /Not on the bus: ThrottlingException: Rate exceeded \(2026-11-25T11:13:26\.000Z\)\./);
    // The key comes from the publisher: it never reaches the terminal raw.
    assert.match(text, /POST it again with idempotencyKey "k\\u001b\[2J": the same event/);
    assert.equal(text.includes('\u001b'), false);
  });
});
