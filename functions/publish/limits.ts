/** Limits of the publish API and of EventBridge PutEvents that publishing respects. */

/** Entries one `POST /events` may carry. */
export const MAX_ENTRIES_PER_REQUEST = 100;
/** Largest PutEvents entry (Detail + DetailType + Source + Resources, UTF-8 bytes), 1 MB. */
export const MAX_ENTRY_BYTES = 1024 * 1024;
/** Entries one PutEvents call may carry. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** Bytes one PutEvents call may carry in total (kept at the entry limit, so a call is never refused for size). */
export const PUT_EVENTS_MAX_BYTES = MAX_ENTRY_BYTES;
/** Longest idempotency key, correlation id or causation id accepted. */
export const MAX_ID_CHARS = 256;
