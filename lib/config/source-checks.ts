/**
 * Checks on the raw file before the YAML parser sees it: the bytes must be UTF-8 (a file saved in
 * Latin-1 would otherwise be read with replacement characters, silently), and the nesting must stay
 * within what the parser and the validators handle without running out of stack.
 */

/** Deepest nesting of mappings, lists and flow collections the loader reads. */
export const MAX_YAML_DEPTH = 128;

/** Byte offset of the first byte that is not part of valid UTF-8, or undefined when all of it is. */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let length: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      length = 2;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      min = 0x10000;
    } else return i;
    if (i + length > bytes.length) return i;
    let code = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k] as number;
      if ((c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += length;
  }
  return undefined;
}

/** Line and column (1-based; the column counts bytes) of a byte offset. */
export function bytePosition(bytes: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++)
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  return { line, col: offset - lineStart + 1 };
}

/**
 * Where the nesting first passes `max` levels, or undefined. Counted from the text without parsing:
 * block levels from indentation (and `- ` list markers), flow levels from brackets outside quotes.
 * Generous where it is unsure: it only has to stop documents a parser would overflow on.
 */
export function tooDeep(source: string, max = MAX_YAML_DEPTH): { offset: number; depth: number } | undefined {
  const indents: number[] = [];
  let flow = 0;
  let offset = 0;
  for (const line of source.split('\n')) {
    const start = offset;
    offset += line.length + 1;
    const indent = line.length - line.trimStart().length;
    const rest = line.slice(indent);
    if (flow === 0) {
      if (rest === '' || rest.startsWith('#')) continue;
      while (indents.length > 0 && (indents.at(-1) as number) >= indent) indents.pop();
      indents.push(indent);
    }
    let markers = 0;
    while (flow === 0 && /^-( |$)/.test(rest.slice(markers * 2))) markers++;
    let quote: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const c = rest[i] as string;
      if (quote) {
        if (c === '\\' && quote === '"') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '#' && (i === 0 || rest[i - 1] === ' ')) break;
      else if (c === '[' || c === '{') {
        flow++;
        if (indents.length + markers + flow > max)
          return { offset: start + indent + i, depth: indents.length + markers + flow };
      } else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
    }
    if (indents.length + markers + flow > max)
      return { offset: start + indent, depth: indents.length + markers + flow };
  }
  return undefined;
}
