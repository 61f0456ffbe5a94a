/**
 * The import graph of the project's own modules (bin/, lib/, functions/, common/, generated/), read
 * from the source text: static `import`/`export … from`, side-effect imports and literal dynamic
 * `import('…')`. Relative specifiers and the package's subpath imports (`#commons/*`, `#generated/*`) are resolved;
 * packages are left out. Used by layers.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

export const LAYER_ROOTS = ['bin', 'lib', 'functions', 'common', 'generated'] as const;

/** An import of one project file by another; `typeOnly` when it is erased at run time. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

const SOURCE = /\.(ts|mts|js|mjs)$/;
const SPECIFIERS =
  /(?:^|[\s;}])(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Removes comments, so an example in a doc comment is not taken for an import. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** The specifiers `file` imports, with whether each import is type-only. */
export function importsOf(text: string): { specifier: string; typeOnly: boolean }[] {
  const found: { specifier: string; typeOnly: boolean }[] = [];
  for (const m of stripComments(text).matchAll(SPECIFIERS)) {
    const specifier = m[3] ?? m[4];
    if (specifier) found.push({ specifier, typeOnly: m[2] !== undefined });
  }
  return found;
}

/** Resolves `specifier` imported by `from` (root-relative, `/`-separated) to a root-relative path. */
export function resolveImport(from: string, specifier: string, root: string): string | undefined {
  let target: string;
  if (specifier.startsWith('#commons/'))
    target = join('functions/commons', specifier.slice('#commons/'.length));
  else if (specifier.startsWith('.')) target = join(dirname(from), specifier);
  else return undefined;
  const path = normalize(target).split(sep).join('/');
  if (existsSync(join(root, path))) return path;
  for (const ext of ['.ts', '.js', '.mjs', '/index.ts'])
    if (existsSync(join(root, path + ext))) return path + ext;
  return path;
}

/** Every edge between the tracked source files below LAYER_ROOTS. */
export function importGraph(root: string): { files: string[]; edges: ImportEdge[] } {
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', ...LAYER_ROOTS],
    {
      cwd: root,
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter((f) => SOURCE.test(f) && existsSync(join(root, f)));
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const { specifier, typeOnly } of importsOf(readFileSync(join(root, from), 'utf8'))) {
      const to = resolveImport(from, specifier, root);
      if (to !== undefined) edges.push({ from, to, typeOnly });
    }
  }
  return { files, edges };
}

/** The import cycles (strongly connected components of more than one file, or a file importing itself). */
export function cycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node) ?? 0, index.get(to) ?? 0));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (next.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of next.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** `path` relative to `root`, `/`-separated. */
export function rootRelative(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
