/**
 * NotificationService/NotifyApprover: asks the approver to review a submitted expense report.
 */

import { defineRpc } from '#generated/rpc.ts';
import { formatMoney } from '../money.ts';

export const handler = defineRpc('expense.report.submitted', async (payload, ctx) => {
  const text = `Expense report ${payload.reportId} (${formatMoney(payload.total, payload.currency)}) awaits your review`;
  ctx.logger.info('Approver notification composed', { approverId: payload.approverId, channel: 'email' });
  return { channel: 'email', recipient: payload.approverId, text };
});
