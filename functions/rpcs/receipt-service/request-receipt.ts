/**
 * ReceiptService/RequestReceipt: opens a receipt request for a transaction that needs one (the
 * subscription's filter only delivers purchases from 75.00 up).
 */
import { defineRpc } from '#generated/rpc.ts';

/** Days the cardholder has to upload the receipt. */
const DUE_DAYS = 14;

export const handler = defineRpc('card.transaction.authorized', async (payload, ctx) => {
  const dueAt = new Date(Date.parse(ctx.occurredAt) + DUE_DAYS * 24 * 3600 * 1000).toISOString();
  const requestId = `rr-${payload.transactionId}`;
  ctx.logger.info('Receipt requested', { requestId, transactionId: payload.transactionId, dueAt });
  return { requestId, transactionId: payload.transactionId, cardholderId: payload.cardholderId, dueAt };
});
