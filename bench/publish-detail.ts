/** The detail of the benchmark's receipt.uploaded events (the example app's schema). */
export function detail(eventId: string): string {
  return JSON.stringify({
    metadata: {
      eventId,
      occurredAt: new Date().toISOString(),
      correlationId: eventId,
      publisher: 'MobileApp',
      schemaVersion: 1,
    },
    payload: {
      receiptId: `r-${eventId}`,
      transactionId: `t-${eventId}`,
      objectKey: `receipts/${eventId}.jpg`,
    },
  });
}
