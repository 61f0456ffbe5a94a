/**
 * Identifiers derived deterministically from the delivery, so a re-run after a crash produces the
 * same ones (and downstream dedup recognises them).
 */
import { createHash } from 'node:crypto';

function digest(input: string): string {
  return createHash('sha256').update(input).digest('hex');
}

/** A UUID (version 8: application-defined) computed from `parts`. */
export function deterministicUuid(...parts: readonly string[]): string {
  const hex = digest(parts.join('\u0000'));
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A W3C `traceparent` header. The trace id is derived from the correlation id, so every call made
 * while handling one business flow shares a trace; the parent id from the delivery and attempt.
 */
export function traceparent(correlationId: string, spanSeed: string): string {
  const traceId = digest(`trace\u0000${correlationId}`).slice(0, 32);
  const parentId = digest(`span\u0000${spanSeed}`).slice(0, 16);
  return `00-${traceId}-${parentId}-01`;
}
