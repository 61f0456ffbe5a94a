/**
 * Publish receipts: one item per event published through the API, in the deliveries table beside the
 * event's delivery records (same partition key, the eventId; sort key `#publish`, which no RPC id can be,
 * as RPC ids are `Service/Method`). One Query on the eventId thus gives the status both the records and
 * who published the event, under which name, with which payload.
 *
 * Written with one conditional PutItem (`attribute_not_exists`) before the event is sent (a replay or a
 * conflict then reads the original with one consistent GetItem):
 * - no receipt yet: this publish is the first; it is written and the event is sent;
 * - a receipt with the same publisher and payload hash: a replay; the original envelope (eventId,
 *   occurredAt, correlation) is sent again (downstream dedups it) and the answer says `replayed: true`;
 * - a receipt with another payload: the idempotency key was reused for something else (409 Conflict).
 *
 * When the bus did not accept the event, the receipt says so (`notSent`), until a retry of the same
 * publish puts it on the bus: the status then tells the publisher the event never left the API, rather
 * than showing it pending for good. Receipts are otherwise never changed.
 *
 * The item has no `status`, so code that reads delivery records (status, dashboard) skips it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

/** Sort key of a receipt: not an RPC id (those are `Service/Method`). */
export const RECEIPT_SORT_KEY = '#publish';

/** The receipt of one published event. */
export interface PublishReceipt {
  readonly eventId: string;
  readonly rpc: typeof RECEIPT_SORT_KEY;
  readonly eventName: string;
  /** The declared publisher it was published as. */
  readonly publisher: string;
  /** payloadHash() of the payload. */
  readonly payloadHash: string;
  readonly idempotencyKey?: string;
  readonly occurredAt: string;
  readonly correlationId: string;
  readonly causationId?: string;
  /** Epoch ms. */
  readonly publishedAt: number;
  /** Epoch seconds; the table's TTL attribute. */
  readonly expiresAt: number;
  /** The bus did not accept the event at its last publish (a retry with the same key sends it again). */
  readonly notSent?: NotSent;
}

/** Why the bus did not accept a published event: PutEvents' error for its entry. */
export interface NotSent {
  /** Epoch ms. */
  readonly at: number;
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

/** True for a receipt item (as opposed to a delivery record). */
export function isReceipt(item: { readonly rpc?: unknown }): boolean {
  return item.rpc === RECEIPT_SORT_KEY;
}

/** What writing a receipt found. */
export type ReceiptOutcome =
  | { readonly kind: 'first' }
  | { readonly kind: 'replay'; readonly original: PublishReceipt }
  | { readonly kind: 'conflict'; readonly original: PublishReceipt };

/**
 * Stores `notSent` on the receipt (or removes it, with `undefined`): the receipt is written again as it
 * is, only while the stored one is this publish's (same payload hash). With PutItem, which the publish
 * function may already use, rather than a wider grant for one attribute.
 */
export async function markNotSent(
  client: DynamoDBDocumentClient,
  tableName: string,
  receipt: PublishReceipt,
  notSent: NotSent | undefined,
): Promise<void> {
  const { notSent: _previous, ...rest } = receipt;
  await client.send(
    new PutCommand({
      TableName: tableName,
      Item: notSent ? { ...rest, notSent } : rest,
      ConditionExpression: 'attribute_exists(eventId) AND payloadHash = :hash',
      ExpressionAttributeValues: { ':hash': receipt.payloadHash },
    }),
  );
}

/** Writes `receipt` unless one exists for its eventId; tells a replay from a conflict. */
export async function recordReceipt(
  client: DynamoDBDocumentClient,
  tableName: string,
  receipt: PublishReceipt,
): Promise<ReceiptOutcome> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: receipt,
        ConditionExpression: 'attribute_not_exists(eventId)',
      }),
    );
    return { kind: 'first' };
  } catch (error) {
    if (
      !(error instanceof ConditionalCheckFailedException) &&
      (error as Error).name !== 'ConditionalCheckFailedException'
    )
      throw error;
    // Only a replay or a conflict reads the original (a first publish costs the one write).
    const found = await client.send(
      new GetCommand({
        TableName: tableName,
        Key: { eventId: receipt.eventId, rpc: RECEIPT_SORT_KEY },
        ConsistentRead: true,
      }),
    );
    const original = found.Item as PublishReceipt | undefined;
    if (!original) throw new Error(`The receipt of ${receipt.eventId} exists but could not be read.`);
    const same = original.publisher === receipt.publisher && original.payloadHash === receipt.payloadHash;
    return same ? { kind: 'replay', original } : { kind: 'conflict', original };
  }
}
