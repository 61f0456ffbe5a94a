/** Finds references in a file's text that climb above the repository root. See self-contained.test.ts. */
import { posix } from 'node:path';

/** `../` chains inside a path-like token: `../x`, `../../y/z`. */
const DOTTED = /(?<![\w./-])((?:\.\.\/)+)([\w.@-][\w./@-]*)?/g;
/** `join(`/`resolve(` calls with literal `'..'` arguments. */
const JOINED = /\b(?:join|resolve)\(([^()]*)\)/g;
/** Folders that sit beside the repository on a developer's machine, never in a clone. */
const SIBLINGS = /(?<![\w-])\.\.\/shared\b|\bshared\/conformance\b/g;

function depthOf(file: string): number {
  const dir = posix.dirname(file);
  return dir === '.' ? 0 : dir.split('/').length;
}

function place(file: string): string {
  const dir = posix.dirname(file);
  return dir === '.' ? 'the root' : dir;
}

function plural(n: number): string {
  return n === 1 ? '1 folder' : `${n} folders`;
}

/** What in `text` (the content of the tracked file `file`) reaches above the repository root. */
export function escapingReferences(file: string, text: string): string[] {
  const depth = depthOf(file);
  const found: string[] = [];
  for (const m of text.matchAll(DOTTED)) {
    const climbs = (m[1] ?? '').length / 3;
    if (climbs > depth) found.push(`"${m[0]}" climbs ${plural(climbs)} from ${place(file)}`);
  }
  for (const m of text.matchAll(JOINED)) {
    const args = m[1] ?? '';
    const climbs = (args.match(/(['"])\.\.\1/g) ?? []).length;
    if (climbs > depth) {
      const shown = args
        .split(',')
        .slice(0, climbs + 1)
        .map((a) => a.trim())
        .join(', ');
      found.push(`join(${shown} …) climbs ${plural(climbs)} from ${place(file)}`);
    }
  }
  for (const m of text.matchAll(SIBLINGS)) {
    if (!found.some((f) => f.includes(m[0]))) found.push(`"${m[0]}" names a folder outside the repository`);
  }
  return found;
}
