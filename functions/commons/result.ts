/**
 * The handler's result as stored in the delivery record: JSON, bounded in size so a large return
 * value cannot push the item past DynamoDB's 400 KB limit.
 */

/** Largest result kept verbatim, in UTF-8 bytes. */
export const MAX_RESULT_BYTES = 8 * 1024;
/** Characters of a too-large result kept as a preview. */
const PREVIEW_CHARS = 1024;

/**
 * JSON of `result`, or undefined when there is nothing to keep (undefined, or not serializable).
 * A result over `maxBytes` becomes `{"truncated":true,"bytes":<size>,"preview":"<first characters>"}`,
 * which is still JSON.
 */
export function boundedResult(result: unknown, maxBytes = MAX_RESULT_BYTES): string | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch {
    json = JSON.stringify({ unserializable: true, type: typeof result });
  }
  if (json === undefined) return undefined;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= maxBytes) return json;
  return JSON.stringify({
    truncated: true,
    bytes,
    preview: json.slice(0, Math.min(PREVIEW_CHARS, maxBytes / 2)),
  });
}
