/**
 * ReimbursementService/ScheduleReimbursement: schedules the payout of an approved expense report on
 * the next payout day (Fridays).
 */
import { defineRpc } from '#generated/rpc.ts';

/** The next Friday on or after `from`, as a date (YYYY-MM-DD). */
function nextPayoutDay(from: Date): string {
  const day = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  day.setUTCDate(day.getUTCDate() + ((5 - day.getUTCDay() + 7) % 7));
  return day.toISOString().slice(0, 10);
}

export const handler = defineRpc('expense.report.approved', async (payload, ctx) => {
  const payoutDate = nextPayoutDay(new Date(ctx.occurredAt));
  ctx.logger.info('Reimbursement scheduled', { reportId: payload.reportId, payoutDate });
  return {
    payoutId: `po-${payload.reportId}`,
    employeeId: payload.employeeId,
    amount: payload.total,
    currency: payload.currency,
    payoutDate,
  };
});
