/**
 * Matching events against event patterns, with EventBridge's semantics:
 * - a pattern field is a path of keys joined by dots (`{"a":{"b":[..]}}` and `{"a.b":[..]}` are the same
 *   field, and so are the event's `{"a":{"b":..}}` and `{"a.b":..}`);
 * - only leaf values (strings, numbers, booleans, null) are compared; an empty array has none;
 * - an array in the event matches when any of its elements does, and the fields of one branch must
 *   take their values from the same element of each array they cross;
 * - `exists: false` matches a path with no leaf value; every other test needs one.
 */
import { type CompiledBranch, type CompiledField, compile, type Leaf } from './compile.ts';
import { invalidPatternMessage } from './validate.ts';

/** A compiled pattern: call it with an event. */
export type PatternMatcher = (event: unknown) => boolean;

/** One leaf value of the event and the array elements it sits in (array id -> element index). */
interface Value {
  readonly value: Leaf;
  readonly arrays: readonly (readonly [number, number])[];
}

/**
 * Compiles a pattern once for repeated matching. Throws an Error with EventBridge's message
 * (`Event pattern is not valid. Reason: ...`) when the pattern is not valid.
 */
export function compilePattern(pattern: unknown): PatternMatcher {
  const { problems, branches } = compile(pattern);
  if (problems.length > 0) throw new Error(invalidPatternMessage(problems.map((p) => p.message)));
  const paths = new Set<string>();
  const prefixes = new Set<string>();
  for (const branch of branches) {
    for (const field of branch) {
      paths.add(field.path);
      let dot = field.path.indexOf('.');
      while (dot !== -1) {
        prefixes.add(field.path.slice(0, dot));
        dot = field.path.indexOf('.', dot + 1);
      }
    }
  }
  return (event) => {
    const values = collect(event, paths, prefixes);
    return branches.some((branch) => matchBranch(branch, values));
  };
}

/** One-off match; prefer compilePattern when the same pattern meets many events. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

/** The leaf values of the event at the paths the pattern tests (other parts are not visited). */
function collect(
  event: unknown,
  paths: ReadonlySet<string>,
  prefixes: ReadonlySet<string>,
): Map<string, Value[]> {
  const out = new Map<string, Value[]>();
  let nextArrayId = 0;
  const visit = (node: unknown, path: string, arrays: readonly (readonly [number, number])[]) => {
    if (Array.isArray(node)) {
      const id = nextArrayId++;
      node.forEach((item, index) => {
        visit(item, path, [...arrays, [id, index]]);
      });
      return;
    }
    if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        const childPath = path === '' ? key : `${path}.${key}`;
        if (paths.has(childPath) || prefixes.has(childPath)) visit(child, childPath, arrays);
      }
      return;
    }
    if (path === '' || !paths.has(path)) return;
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean' || node === null) {
      let list = out.get(path);
      if (!list) {
        list = [];
        out.set(path, list);
      }
      list.push({ value: node, arrays });
    }
  };
  visit(event, '', []);
  return out;
}

/** The values of a path that satisfy the field, or 'absent-ok' when `exists: false` is satisfied. */
function candidates(field: CompiledField, values: readonly Value[] | undefined): Value[] | 'absent-ok' {
  if (!values || values.length === 0) return field.existsFalse ? 'absent-ok' : [];
  if (field.existsTrue) return [...values];
  return values.filter((v) => field.tests.some((test) => test(v.value)));
}

function matchBranch(branch: CompiledBranch, values: ReadonlyMap<string, Value[]>): boolean {
  const needed: Value[][] = [];
  for (const field of branch) {
    const found = candidates(field, values.get(field.path));
    if (found === 'absent-ok') continue;
    if (found.length === 0) return false;
    needed.push(found);
  }
  // Fast path: values outside arrays never conflict.
  if (needed.every((list) => list.some((v) => v.arrays.length === 0))) return true;
  needed.sort((a, b) => a.length - b.length);
  return consistent(needed, 0, new Map());
}

/** Backtracking: picks one value per field such that no two sit in different elements of one array. */
function consistent(needed: readonly Value[][], index: number, chosen: Map<number, number>): boolean {
  const list = needed[index];
  if (!list) return true;
  for (const value of list) {
    const added: number[] = [];
    let ok = true;
    for (const [array, element] of value.arrays) {
      const current = chosen.get(array);
      if (current === undefined) {
        chosen.set(array, element);
        added.push(array);
      } else if (current !== element) {
        ok = false;
        break;
      }
    }
    if (ok && consistent(needed, index + 1, chosen)) return true;
    for (const array of added) chosen.delete(array);
  }
  return false;
}
