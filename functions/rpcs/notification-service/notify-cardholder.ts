/**
 * NotificationService/NotifyCardholder: tells the cardholder about a card transaction with a push
 * notification. The push itself is out of scope here; the composed notification is the result.
 */

import { defineRpc } from '#generated/rpc.ts';
import { formatMoney } from '../money.ts';

export const handler = defineRpc('card.transaction.authorized', async (payload, ctx) => {
  const text = `Card purchase of ${formatMoney(payload.amount, payload.currency)} at ${payload.merchant.name}`;
  ctx.logger.info('Cardholder notification composed', {
    cardholderId: payload.cardholderId,
    channel: 'push',
  });
  return { channel: 'push', recipient: payload.cardholderId, text };
});
