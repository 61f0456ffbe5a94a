/**
 * TypeScript literal printing in the project's formatter style (single quotes, two-space indent,
 * trailing commas, 110 columns), so generated files need no formatter pass and stay byte-for-byte stable.
 */

/** Line width the formatter wraps at. */
export const LINE_WIDTH = 110;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A string literal, single-quoted unless double quotes need fewer escapes (as the formatter chooses). */
export function stringLiteral(value: string): string {
  const singles = value.split("'").length - 1;
  const doubles = value.split('"').length - 1;
  const quote = singles > doubles ? '"' : "'";
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x2028 || code === 0x2029 || code === 0x7f)
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** An object or interface key: bare when it is an identifier, else quoted. */
export function propertyKey(key: string): string {
  return IDENTIFIER.test(key) ? key : stringLiteral(key);
}

function isPrimitive(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function primitiveLiteral(value: string | number | boolean | null): string {
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`Cannot print the number ${value} as a literal.`);
    return String(value).replace('e+', 'e');
  }
  return String(value);
}

/**
 * A JSON value as a TypeScript expression. Objects are always printed expanded (one property per line);
 * arrays of primitives stay on one line when they fit (`prefixWidth` = columns already used on that line,
 * `suffixWidth` = columns that follow), otherwise one element per line.
 */
export function valueLiteral(value: unknown, indent: string, prefixWidth: number, suffixWidth = 1): string {
  if (isPrimitive(value)) return primitiveLiteral(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every(isPrimitive)) {
      const flat = `[${value.map(primitiveLiteral).join(', ')}]`;
      // What follows the array on its line (`,` after an object property by default) counts too.
      if (prefixWidth + flat.length + suffixWidth <= LINE_WIDTH) return flat;
      if (value.every((item) => typeof item === 'number')) return numberFill(value, indent);
    }
    const items = value.map((item) => `${inner}${valueLiteral(item, inner, inner.length)},`);
    return `[\n${items.join('\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([key, item]) => {
      const head = `${inner}${propertyKey(key)}: `;
      return `${head}${valueLiteral(item, inner, head.length)},`;
    });
    return `{\n${lines.join('\n')}\n${indent}}`;
  }
  throw new Error(`Cannot print a value of type ${typeof value} as a literal.`);
}

/** Long arrays of numbers are filled: as many per line as fit. */
function numberFill(values: readonly number[], indent: string): string {
  const inner = `${indent}  `;
  const lines: string[] = [];
  let line = '';
  for (const value of values) {
    const item = `${primitiveLiteral(value)},`;
    if (line && inner.length + line.length + 1 + item.length > LINE_WIDTH) {
      lines.push(`${inner}${line}`);
      line = item;
    } else line = line ? `${line} ${item}` : item;
  }
  if (line) lines.push(`${inner}${line}`);
  return `[\n${lines.join('\n')}\n${indent}]`;
}

/** A JSDoc block for `text` at `indent`, or an empty string when there is no text. */
export function jsDoc(text: string | undefined, indent: string): string {
  const cleaned = (text ?? '').replace(/\*\//g, '*\\/').trim();
  if (!cleaned) return '';
  const lines = cleaned.split(/\r?\n/).map((line) => line.trimEnd());
  const [first = ''] = lines;
  if (lines.length === 1 && indent.length + first.length + 7 <= LINE_WIDTH)
    return `${indent}/** ${first} */\n`;
  return `${indent}/**\n${lines.map((line) => (line ? `${indent} * ${line}` : `${indent} *`)).join('\n')}\n${indent} */\n`;
}
