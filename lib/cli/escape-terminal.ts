/**
 * Text from events (ids, names, payload property names, error messages) printed to a terminal:
 * control characters are shown escaped (`\x1b`, `\u009b`, `\u202e`), so event data cannot move the
 * cursor, recolour or retitle the terminal, hide text or fake a line. Used by the dev terminal log,
 * `status` and `dlq peek`; the dashboard escapes for HTML instead.
 */

// C0 controls but tab, DEL, C1 controls, and the bidirectional overrides and isolates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every character that a terminal would act on written as an escape. */
export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
