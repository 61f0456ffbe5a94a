/**
 * Event ids. With an idempotency key the id is a name-based UUID (version 5: SHA-1 of a fixed namespace,
 * the event name and the key), so the same key for the same event always yields the same eventId and
 * a client's retry is deduplicated downstream; without one it is a random UUID.
 */
import { createHash, randomUUID } from 'node:crypto';

/** Namespace of event-router's name-based event ids (a fixed, random UUID). */
export const EVENT_ID_NAMESPACE = '5b4f3c0e-9a7d-4f5e-8c21-6d0e7a9b1f42';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The UUID (version 5) of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string = EVENT_ID_NAMESPACE): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return formatUuid(bytes);
}

/** The eventId of an event: derived from `idempotencyKey` when given (stable), else random. */
export function eventIdFor(eventName: string, idempotencyKey?: string): string {
  if (idempotencyKey === undefined) return randomUUID();
  // A newline cannot occur in an event name, so (name, key) pairs never collide.
  return uuidV5(`${eventName}\n${idempotencyKey}`);
}
