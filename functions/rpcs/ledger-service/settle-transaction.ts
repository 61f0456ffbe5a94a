/**
 * LedgerService/SettleTransaction: marks a ledger entry as settled.
 */

import { defineRpc } from '#generated/rpc.ts';
import { formatMoney } from '../money.ts';

export const handler = defineRpc('card.transaction.settled', async (payload, ctx) => {
  const entryId = `le-${payload.transactionId}`;
  ctx.logger.info('Ledger entry settled', {
    entryId,
    settled: formatMoney(payload.settledAmount, payload.currency),
  });
  return {
    entryId,
    settledAmount: payload.settledAmount,
    currency: payload.currency,
    settledAt: ctx.occurredAt,
  };
});
