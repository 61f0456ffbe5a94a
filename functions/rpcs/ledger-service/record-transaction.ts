/**
 * LedgerService/RecordTransaction: writes the authorized transaction to the ledger and publishes
 * `ledger.entry.recorded` for the reporting side. The entry id is derived from the transaction, so a
 * re-run records (and publishes) the same entry.
 */
import { defineRpc } from '#generated/rpc.ts';

/** Department that owns spend in a merchant category (a tiny stand-in for the real lookup). */
function departmentFor(category: string): string {
  if (category === '4511' || category === '7011') return 'travel';
  if (category === '5812' || category === '5814') return 'meals';
  return 'general';
}

export const handler = defineRpc('card.transaction.authorized', async (payload, ctx) => {
  const entryId = `le-${payload.transactionId}`;
  const department = departmentFor(payload.merchant.category);
  ctx.logger.info('Ledger entry recorded', { entryId, department });
  const followUpId = await ctx.publish('ledger.entry.recorded', {
    entryId,
    transactionId: payload.transactionId,
    amount: payload.amount,
    currency: payload.currency,
    department,
  });
  return { entryId, department, followUpEventId: followUpId };
});
