/**
 * A static check that a handler module exports `handler`, without running or compiling it.
 */

/**
 * Blanks out comments and the contents of string and template literals (keeping offsets), so the
 * export patterns below cannot be fooled by text inside them.
 */
function stripCommentsAndStrings(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < source.length && source[j] !== c) {
        if (source[j] === '\\') j++;
        else if (c !== '`' && source[j] === '\n') break;
        j++;
      }
      out += `${c}${source.slice(i + 1, j).replace(/[^\n]/g, ' ')}${c}`;
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const DIRECT = [
  // export const handler = ..., export let handler: Handler = ..., export var handler
  /\bexport\s+(?:const|let|var)\s+handler\b/,
  // export function handler(...), export async function handler(...), export function* handler
  /\bexport\s+(?:async\s+)?function\s*\*?\s*handler\s*[(<]/,
  // export class handler (unusual but a valid export)
  /\bexport\s+class\s+handler\b/,
];

/** Matches `export { a, b as handler }` and `export { handler } from './x.ts'` (also `export type {}`). */
const EXPORT_LIST = /\bexport\s+(type\s+)?\{([^}]*)\}/g;

/** True when the module source exports a binding named `handler`. */
export function exportsHandler(source: string): boolean {
  const code = stripCommentsAndStrings(source);
  if (DIRECT.some((re) => re.test(code))) return true;
  for (const match of code.matchAll(EXPORT_LIST)) {
    if (match[1]) continue; // `export type { ... }` exports no value
    const specifiers = (match[2] ?? '').split(',');
    for (const specifier of specifiers) {
      const parts = specifier
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/);
      const exported = (parts[1] ?? parts[0] ?? '').trim();
      if (exported === 'handler' && !/^type\s/.test(specifier.trim())) return true;
    }
  }
  return false;
}

/** A hint for a module that has no `handler` export, based on what it does export. */
export function missingHandlerHint(source: string): string {
  const code = stripCommentsAndStrings(source);
  if (/\bexport\s+default\b/.test(code))
    return 'The module has a default export, but the worker calls the named export `handler`: write `export const handler = ...` (or `export { yourFunction as handler }`).';
  if (/\bexport\s+\*\s+from\b/.test(code))
    return "`export * from` re-exports are not followed by this check: export `handler` explicitly, e.g. `export { handler } from './impl.ts'`.";
  return 'Export the RPC function as `handler`: `export const handler = async (payload, context) => { ... }`.';
}
