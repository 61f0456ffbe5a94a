/** Limits of the publish API and of EventBridge PutEvents that publishing respects. */
export { MAX_ENTRY_BYTES, PUT_EVENTS_MAX_BYTES, PUT_EVENTS_MAX_ENTRIES } from '../commons/publish.ts';

/** Entries one `POST /events` may carry. */
export const MAX_ENTRIES_PER_REQUEST = 100;
/** Longest idempotency key, correlation id or causation id accepted. */
export const MAX_ID_CHARS = 256;
