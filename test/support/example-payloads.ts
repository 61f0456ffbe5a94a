/** Payloads of the example router (event-router.yaml) for the tests that run it. */
import { randomUUID } from 'node:crypto';

/** A valid `card.transaction.authorized` payload of `amount` with a fresh transactionId. */
export function exampleTransaction(amount: number) {
  return {
    transactionId: `t-${randomUUID()}`,
    cardId: 'card-1',
    cardholderId: 'holder-1',
    amount,
    currency: 'EUR',
    merchant: { name: 'Café', category: '5812' },
  };
}
