/**
 * Reading the YAML syntax tree with positions: every value the loader takes from the document goes
 * through here, so every problem can point at the node it came from.
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { capitalize } from '../../common/case.ts';
import type { DiagnosticBag } from './diagnostics.ts';
import { didYouMean } from './suggest.ts';
import type { SourceLocation } from './types.ts';

/** One `key: value` entry of a mapping. */
export interface Entry {
  readonly key: string;
  readonly keyNode: Node;
  /** The value node, or undefined for `key:` with nothing after it. */
  readonly value: Node | undefined;
}

/** What a node is, in words, for "expected X but found Y" messages. */
function describeNode(node: Node | undefined): string {
  if (node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'nothing';
    if (typeof v === 'string') return `the text "${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
    if (typeof v === 'number') return `the number ${v}`;
    if (typeof v === 'boolean') return `the boolean ${v}`;
    return `the value ${String(v)}`;
  }
  return 'an unsupported value';
}

export class YamlReader {
  constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
    readonly diagnostics: DiagnosticBag,
  ) {}

  /** Location of a character offset. */
  at(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Location of a node (its first character), or of `fallback` when the node is absent. */
  loc(node: Node | undefined | null, fallback?: SourceLocation): SourceLocation {
    const range = node?.range;
    if (range) return this.at(range[0]);
    return fallback ?? { file: this.file, line: 1, col: 1 };
  }

  /** Follows an alias (`*name`) to the node it stands for. */
  resolve(node: unknown): Node | undefined {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? undefined;
    if (node === null || node === undefined) return undefined;
    return node as Node;
  }

  /** True for an absent value or an explicit `null` / `~` / empty value. */
  isNull(node: Node | undefined): boolean {
    return node === undefined || (isScalar(node) && (node.value === null || node.value === undefined));
  }

  /**
   * The plain JavaScript value of a node (aliases resolved). Undefined, with an error at the node,
   * when its aliases expand past what a document needs (an "alias bomb") or it nests too deeply.
   */
  toJs(node: Node | undefined, what = 'this value'): unknown {
    if (node === undefined) return undefined;
    try {
      return node.toJS(this.doc, { maxAliasCount: 100 });
    } catch (error) {
      const bomb = error instanceof ReferenceError && /alias/i.test(error.message);
      this.diagnostics.error(
        this.loc(node),
        bomb ? 'alias-limit' : 'too-deep',
        bomb
          ? `${capitalize(what)} uses aliases (*name) that expand to too many copies: ${error.message}.`
          : `${capitalize(what)} cannot be read: ${(error as Error).message}.`,
        bomb
          ? 'Write the value out, or use fewer aliases; an alias may be expanded at most 100 times.'
          : 'Nest it less deeply.',
      );
      return undefined;
    }
  }

  /**
   * The entries of a mapping node. Reports and skips keys that are not plain strings. When `allowed`
   * is given, reports unknown keys with a did-you-mean suggestion (`what` names the mapping).
   */
  entries(map: YAMLMap, what: string, allowed?: readonly string[]): Entry[] {
    const out: Entry[] = [];
    for (const pair of map.items) {
      const keyNode = this.resolve(pair.key);
      const value = this.resolve(pair.value);
      if (
        !keyNode ||
        !isScalar(keyNode) ||
        (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')
      ) {
        this.diagnostics.error(
          this.loc(keyNode ?? value, this.loc(map)),
          'invalid-key',
          `A key in ${what} is not a plain name.`,
          'Keys must be plain words, e.g. `name:`.',
        );
        continue;
      }
      const key = String(keyNode.value);
      if (allowed && !allowed.includes(key)) {
        const suggestion = didYouMean(key, allowed);
        this.diagnostics.error(
          this.loc(keyNode),
          'unknown-key',
          `Unknown key "${key}" in ${what}.`,
          suggestion || `Allowed keys: ${allowed.join(', ')}.`,
        );
        continue;
      }
      out.push({ key, keyNode, value: value ?? undefined });
    }
    return out;
  }

  /** Entries as a lookup by key. */
  fields(map: YAMLMap, what: string, allowed: readonly string[]): Map<string, Entry> {
    return new Map(this.entries(map, what, allowed).map((e) => [e.key, e]));
  }

  /** Reports a missing required field of `map`. */
  missing(map: Node, field: string, what: string, hint: string): void {
    this.diagnostics.error(this.loc(map), 'missing-field', `${capitalize(what)} has no "${field}".`, hint);
  }

  /** Reports a value of the wrong type, pointing at the value (or at its key when the value is empty). */
  wrongType(
    entry: { keyNode: Node; value: Node | undefined } | Node,
    expected: string,
    what: string,
    hint?: string,
  ): void {
    const { node, fallbackNode } =
      'keyNode' in entry
        ? { node: entry.value, fallbackNode: entry.keyNode }
        : { node: entry, fallbackNode: entry };
    const location = this.isNull(node) || !node?.range ? this.loc(fallbackNode) : this.loc(node);
    this.diagnostics.error(
      location,
      'wrong-type',
      `${capitalize(what)} must be ${expected}, but it is ${describeNode(node)}.`,
      hint,
    );
  }

  /** The node at a path of keys and indexes below `root`, as deep as the path exists. */
  nodeAt(root: Node, path: readonly (string | number)[]): Node | undefined {
    let node: Node | undefined = root;
    for (const segment of path) {
      let next: Node | undefined;
      if (isMap(node)) {
        const pair: Pair | undefined = node.items.find((p) => this.keyOf(p.key) === String(segment));
        next = pair ? (this.resolve(pair.value) ?? this.resolve(pair.key)) : undefined;
      } else if (isSeq(node)) {
        next = this.resolve(node.items[Number(segment)]);
      }
      if (!next) break;
      node = next;
    }
    return node;
  }

  /** The key node of the last step of `path` (or the deepest node that exists on the way). */
  keyNodeAt(root: Node, path: readonly (string | number)[]): Node | undefined {
    const parent = this.nodeAt(root, path.slice(0, -1));
    const last = String(path[path.length - 1]);
    const pair = isMap(parent) ? parent.items.find((p) => this.keyOf(p.key) === last) : undefined;
    return this.resolve(pair?.key) ?? parent;
  }

  private keyOf(key: unknown): string | undefined {
    const node = this.resolve(key);
    return isScalar(node) && node.value !== null && node.value !== undefined ? String(node.value) : undefined;
  }

  asMap(node: Node | undefined): YAMLMap | undefined {
    return isMap(node) ? node : undefined;
  }

  asSeq(node: Node | undefined): YAMLSeq | undefined {
    return isSeq(node) ? node : undefined;
  }

  /** The string value of a scalar, or undefined (no report). */
  stringOf(node: Node | undefined): string | undefined {
    return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
  }

  /** Reads a required-or-optional string field, reporting a wrong type. */
  string(entry: Entry | undefined, what: string, hint?: string): string | undefined {
    if (!entry) return undefined;
    const value = this.stringOf(entry.value);
    if (value === undefined || value.trim() === '') {
      this.wrongType(entry, 'a non-empty text', what, hint);
      return undefined;
    }
    return value;
  }

  /** Reads a whole number within [min, max], reporting a wrong type or a value out of range. */
  integer(entry: Entry | undefined, what: string, min: number, max: number): number | undefined {
    if (!entry) return undefined;
    const node = entry.value;
    const value = isScalar(node) ? (node as Scalar).value : undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.wrongType(
        entry,
        `a whole number from ${min} to ${max}`,
        what,
        `Write a number such as ${min}, without unit or quotes.`,
      );
      return undefined;
    }
    if (value < min || value > max) {
      this.diagnostics.error(
        this.loc(node),
        'out-of-range',
        `${capitalize(what)} is ${value}, outside the allowed range ${min}..${max}.`,
        `Use a value from ${min} to ${max}.`,
      );
      return undefined;
    }
    return value;
  }
}
