/**
 * The fingerprint that groups dead letters: RPC + error type + the error message with what varies
 * from one occurrence to the next normalised away (UUIDs, ids, hex strings, ISO timestamps, numbers,
 * quoted values), so "order 8812 not found" and "order 9001 not found" fall in one group.
 */
import { createHash } from 'node:crypto';

/** The first line of an error message (the stack, if any, follows it), normalised. */
export function normaliseMessage(message: string): string {
  const first = message.split('\n', 1)[0] ?? '';
  return first
    .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\b(?=[0-9a-z_-]*\d)[0-9a-z]+(?:[_-][0-9a-z]+)+\b/gi, '<id>')
    .replace(/\b[0-9a-f]{8,}\b/gi, '<hex>')
    .replace(/"[^"]*"|'[^']*'/g, '<value>')
    .replace(/-?\d+(?:\.\d+)?/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** A short stable id for a group (12 hex characters). */
export function fingerprint(rpc: string, errorType: string, message: string): string {
  return createHash('sha256')
    .update(`${rpc}\u0000${errorType}\u0000${normaliseMessage(message)}`)
    .digest('hex')
    .slice(0, 12);
}
