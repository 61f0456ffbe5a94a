/**
 * ReportingService/UpdateSpendSummary: keeps the per-department spend summary current. Returns the
 * increment it applies; the summary store itself is out of scope here.
 */
import { defineRpc } from '#generated/rpc.ts';

export const handler = defineRpc('ledger.entry.recorded', async (payload, ctx) => {
  const department = payload.department ?? 'unassigned';
  const month = ctx.occurredAt.slice(0, 7);
  ctx.logger.info('Spend summary updated', { department, month });
  return {
    department,
    month,
    currency: payload.currency,
    increment: payload.amount,
    entryId: payload.entryId,
  };
});
