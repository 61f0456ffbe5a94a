/** Limits of the publish API and of EventBridge PutEvents that publishing respects (from the one table). */
import { DELIVERABLE_ENTRY_BYTES, EVENTBRIDGE, MAX_ID_CHARS as ID_CHARS } from '../../common/aws-limits.ts';

/** Entries one `POST /events` may carry. */
export const MAX_ENTRIES_PER_REQUEST = 100;
/**
 * Largest PutEvents entry (Detail + DetailType + Source + Resources, UTF-8 bytes) the API accepts:
 * what still fits the subscribers' queues once a rule wraps it as `{"rpc": ..., "event": ...}`
 * (1 MiB less the wrapper), so an accepted event can always be delivered.
 */
export const MAX_ENTRY_BYTES = DELIVERABLE_ENTRY_BYTES;
/** Entries one PutEvents call may carry. */
export const PUT_EVENTS_MAX_ENTRIES = EVENTBRIDGE.putEventsEntries;
/** Bytes one PutEvents call may carry in total (kept at the entry limit, so a call is never refused for size). */
export const PUT_EVENTS_MAX_BYTES = EVENTBRIDGE.entryBytes;
/** Longest idempotency key, correlation id or causation id accepted. */
export const MAX_ID_CHARS = ID_CHARS;
