/**
 * Static checks of a handler module, without running or compiling it: that it exports `handler`, and
 * how that export is made (`defineRpc` with which events).
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
  return "Export the RPC's worker as `handler`, made with defineRpc: `export const handler = defineRpc('event.name', async (payload, ctx) => { ... });` (import { defineRpc } from the generated/rpc.ts that `event-router codegen` writes).";
}

/** How a module's `handler` export is made, as far as reading its source tells. */
export type HandlerDefinition =
  /** `export const handler = defineRpc(...)` (directly or through a local binding). */
  | {
      readonly kind: 'defineRpc';
      /** The event names it handles; undefined when they are not written as literals (not checked). */
      readonly events: readonly string[] | undefined;
      /** Offset of the `defineRpc` call. */
      readonly offset: number;
    }
  /** A handler made otherwise (a plain function, another wrapper). */
  | { readonly kind: 'other'; readonly offset: number; readonly made: string }
  /** Re-exported from another module, or not found: not checked here. */
  | { readonly kind: 'unknown' };

/** 1-based line and column of `offset` in `source`. */
export function positionOf(source: string, offset: number): { line: number; col: number } {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/** The string literal starting at `offset` of `source` (a quote), and where it ends. */
function stringAt(source: string, offset: number): { value: string; end: number } | undefined {
  const quote = source[offset];
  if (quote !== '"' && quote !== "'" && quote !== '`') return undefined;
  let value = '';
  let i = offset + 1;
  while (i < source.length && source[i] !== quote) {
    if (source[i] === '\\') i++;
    else if (quote === '`' && source[i] === '$' && source[i + 1] === '{') return undefined;
    value += source[i] ?? '';
    i++;
  }
  return { value, end: i + 1 };
}

/** The keys written at the top level of the object literal opening at `open` (`{`); undefined if one is computed. */
function objectKeys(source: string, code: string, open: number): string[] | undefined {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = true;
  for (let i = open; i < code.length; i++) {
    const c = code[i] ?? '';
    if (c === '{' || c === '(' || c === '[') {
      depth++;
      if (depth === 1) expectKey = true;
      continue;
    }
    if (c === '}' || c === ')' || c === ']') {
      depth--;
      if (depth === 0) return keys;
      continue;
    }
    if (depth !== 1) continue;
    if (c === ',') {
      expectKey = true;
      continue;
    }
    if (!expectKey || /\s/.test(c)) continue;
    // `async 'name'() {}` and `async name() {}`: the key follows the modifier.
    const modifier = /^(?:async|get|set)\s+(?=['"`\w$])/.exec(code.slice(i));
    if (modifier) {
      i += modifier[0].length - 1;
      continue;
    }
    if (c === '*') continue;
    expectKey = false;
    const literal = stringAt(source, i);
    if (literal) {
      keys.push(literal.value);
      i = literal.end - 1;
      continue;
    }
    if (c === '[' || c === '.') return undefined; // computed key or spread
    const word = /^(?:async\s+)?([A-Za-z_$][\w$]*)/.exec(code.slice(i));
    if (!word?.[1]) return undefined;
    keys.push(word[1]);
    i += (word[0]?.length ?? 1) - 1;
  }
  return undefined;
}

/** The events of the `defineRpc(` call whose `(` is at `paren`. */
function defineRpcEvents(source: string, code: string, paren: number): string[] | undefined {
  let i = paren + 1;
  while (/\s/.test(code[i] ?? '')) i++;
  const literal = stringAt(source, i);
  if (literal) return [literal.value];
  if (code[i] === '{') return objectKeys(source, code, i);
  return undefined;
}

/** `export const handler = <callee>(` or a local binding exported as `handler`: what makes it and where. */
export function handlerDefinition(source: string): HandlerDefinition {
  const code = stripCommentsAndStrings(source);
  const direct = /\bexport\s+(?:const|let|var)\s+handler\b(?:\s*:[^=]+)?\s*=\s*/.exec(code);
  let valueAt: number | undefined = direct ? direct.index + direct[0].length : undefined;
  if (valueAt === undefined) {
    const fn = /\bexport\s+(?:async\s+)?function\s*\*?\s*handler\b/.exec(code);
    if (fn) return { kind: 'other', offset: fn.index, made: 'a function declaration' };
    for (const match of code.matchAll(EXPORT_LIST)) {
      if (
        match[1] ||
        /\bfrom\s*['"]/.test(
          code.slice((match.index ?? 0) + match[0].length, (match.index ?? 0) + match[0].length + 8),
        )
      )
        continue;
      for (const specifier of (match[2] ?? '').split(',')) {
        const [local = '', exported] = specifier.trim().split(/\s+as\s+/);
        if ((exported ?? local).trim() !== 'handler') continue;
        const binding = new RegExp(
          `\\b(?:const|let|var)\\s+${local.trim().replace(/\$/g, '\\$')}\\b(?:\\s*:[^=]+)?\\s*=\\s*`,
        ).exec(code);
        if (binding) valueAt = binding.index + binding[0].length;
        else {
          const local_fn = new RegExp(`\\bfunction\\s*\\*?\\s*${local.trim().replace(/\$/g, '\\$')}\\b`).exec(
            code,
          );
          if (local_fn) return { kind: 'other', offset: local_fn.index, made: 'a function declaration' };
        }
      }
    }
  }
  if (valueAt === undefined) return { kind: 'unknown' };
  const value = code.slice(valueAt);
  if (
    /^(?:async\s*)?(?:\([^)]*\)|[A-Za-z_$][\w$]*)\s*(?::[^=]+)?=>/.test(value) ||
    /^(?:async\s+)?function\b/.test(value)
  )
    return { kind: 'other', offset: valueAt, made: 'a plain function' };
  const call = /^([A-Za-z_$][\w$.]*)\s*(?:<[^>()]*>)?\s*\(/.exec(value);
  if (call?.[1] && (call[1] === 'defineRpc' || call[1].endsWith('.defineRpc'))) {
    return {
      kind: 'defineRpc',
      events: defineRpcEvents(source, code, valueAt + call[0].length - 1),
      offset: valueAt,
    };
  }
  const made = call?.[1] ? `a call of ${call[1]}()` : 'something else';
  return { kind: 'other', offset: valueAt, made };
}
