/**
 * ApprovalService/RequestApproval: routes a submitted expense report to its approver.
 */
import { defineRpc, NonRetryableError } from '#generated/rpc.ts';

export const handler = defineRpc('expense.report.submitted', async (payload, ctx) => {
  if (payload.approverId === payload.employeeId)
    throw new NonRetryableError(
      `Expense report ${payload.reportId} names its submitter ${payload.employeeId} as approver; assign another approver.`,
    );
  ctx.logger.info('Approval requested', { reportId: payload.reportId, approverId: payload.approverId });
  return { approvalId: `ap-${payload.reportId}`, approverId: payload.approverId, state: 'PENDING' };
});
