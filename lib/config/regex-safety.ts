/**
 * Whether a JSON Schema `pattern` runs in linear time on a backtracking engine (JavaScript's, which
 * the publish API and the workers use). A repetition inside a repetition (`(a+)+`, `(a*)*`,
 * `(\w+\s?)*`) or a repeated alternation whose branches can match the same text (`(a|a)*`) can take
 * exponential time on a short input that almost matches; so can a backreference. Such patterns are
 * refused when the file is validated. A repeated group stays allowed when a character it must match
 * cannot be matched by the repetitions inside it (`([a-z0-9]+-)*`, `(\.[a-z]+)*`): each round then
 * has one way to end. The check is conservative: it refuses some safe patterns, which can always be
 * written another way.
 */

interface Atom {
  /** Source text of a single-character atom (`a`, `\.`, `[a-z]`, `.`); undefined for a group. */
  readonly text?: string;
  readonly group?: Group;
  min: number;
  max: number;
}

interface Group {
  readonly branches: Atom[][];
}

/** Why `pattern` is not linear-time safe, or undefined when it is. */
export function unsafePatternReason(pattern: string): string | undefined {
  try {
    const root: Group = { branches: [[]] };
    const stack: Group[] = [root];
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i] as string;
      const group = stack.at(-1) as Group;
      const branch = group.branches.at(-1) as Atom[];
      if (c === '\\') {
        const next = pattern[i + 1] ?? '';
        if (/[1-9]/.test(next) || next === 'k') return 'it uses a backreference';
        branch.push({ text: c + next, min: 1, max: 1 });
        i++;
      } else if (c === '[') {
        const end = classEnd(pattern, i);
        branch.push({ text: pattern.slice(i, end + 1), min: 1, max: 1 });
        i = end;
      } else if (c === '(') {
        const inner: Group = { branches: [[]] };
        if (pattern[i + 1] === '?') {
          if (pattern[i + 2] === '<' && !/[=!]/.test(pattern[i + 3] ?? '')) i = pattern.indexOf('>', i);
          else i += pattern[i + 2] === '<' ? 3 : 2;
        }
        stack.push(inner);
      } else if (c === ')') {
        const closed = stack.pop() as Group;
        if (stack.length === 0) return undefined; // Unbalanced: compiling the pattern reports it.
        ((stack.at(-1) as Group).branches.at(-1) as Atom[]).push({ group: closed, min: 1, max: 1 });
      } else if (c === '|') group.branches.push([]);
      else if (c === '^' || c === '$') continue;
      else {
        const quantifier = quantifierAt(pattern, i);
        if (!quantifier) {
          branch.push({ text: c, min: 1, max: 1 });
          continue;
        }
        i = quantifier.end;
        if (pattern[i + 1] === '?' || pattern[i + 1] === '+') i++;
        const atom = branch.at(-1);
        if (!atom) continue;
        atom.min = quantifier.min;
        atom.max = quantifier.max;
        if (atom.group && atom.max > 1) {
          const reason = repeatedGroupProblem(atom.group);
          if (reason) return reason;
        }
      }
    }
    return undefined;
  } catch {
    return undefined; // A pattern this reader does not follow is left to the regex compile.
  }
}

function repeatedGroupProblem(group: Group): string | undefined {
  if (group.branches.length > 1 && overlapping(group.branches))
    return 'a repeated group has alternatives that can match the same text (like `(a|a)*`)';
  const repeated = repeatedAtoms(group);
  if (repeated.length === 0) return undefined;
  const branch = group.branches[0] ?? [];
  const separators = branch.filter((a) => a.text !== undefined && a.min >= 1 && a.max === 1);
  const separated = separators.some((s) => repeated.every((r) => !canMatch(r, s.text as string)));
  if (group.branches.length === 1 && separated) return undefined;
  return 'a repeated group contains another repetition (like `(a+)+`)';
}

/** Single-character atoms repeated (max > 1) anywhere inside `group`, or every atom of a repeated inner group. */
function repeatedAtoms(group: Group, all = false): string[] {
  const out: string[] = [];
  for (const branch of group.branches)
    for (const atom of branch) {
      if (atom.group) out.push(...repeatedAtoms(atom.group, all || atom.max > 1));
      else if (all || atom.max > 1) out.push(atom.text as string);
    }
  return out;
}

/** Whether atom `a` may match the character that literal atom `literal` matches. */
function canMatch(a: string, literal: string): boolean {
  const char = literal.startsWith('\\') ? literal.slice(1) : literal;
  if (literal.length > 2 || (literal.startsWith('\\') && /[dDwWsSbBpPux]/.test(char))) return true;
  if (literal === '.') return true;
  return new RegExp(`^(?:${a})$`, 'u').test(char);
}

function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return pattern.length - 1;
}

function quantifierAt(pattern: string, i: number): { min: number; max: number; end: number } | undefined {
  const c = pattern[i];
  if (c === '*') return { min: 0, max: Number.POSITIVE_INFINITY, end: i };
  if (c === '+') return { min: 1, max: Number.POSITIVE_INFINITY, end: i };
  if (c === '?') return { min: 0, max: 1, end: i };
  if (c !== '{') return undefined;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
  if (!m) return undefined;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
  return { min, max, end: i + m[0].length - 1 };
}

/** Whether two branches may start with the same character (conservative). */
function overlapping(branches: readonly Atom[][]): boolean {
  const firsts: string[] = [];
  for (const branch of branches) {
    const first = branch[0];
    if (!first?.text || first.min === 0) return true;
    if (
      firsts.some((other) => canMatch(other, first.text as string) || canMatch(first.text as string, other))
    )
      return true;
    firsts.push(first.text);
  }
  return false;
}
