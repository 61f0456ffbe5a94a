/**
 * NotificationService/NotifySubmitter: tells the employee their expense report was approved.
 */

import { defineRpc } from '#generated/rpc.ts';
import { formatMoney } from '../money.ts';

export const handler = defineRpc('expense.report.approved', async (payload, ctx) => {
  const text = `Your expense report ${payload.reportId} (${formatMoney(payload.total, payload.currency)}) was approved`;
  ctx.logger.info('Submitter notification composed', { employeeId: payload.employeeId, channel: 'push' });
  return { channel: 'push', recipient: payload.employeeId, text };
});
