/**
 * Wildcard values (`*` matches any run of characters, `\*` and `\\` are a literal star and backslash):
 * parsing, matching, and the complexity limit EventBridge puts on them.
 */

/** A parsed wildcard: literal runs and stars (null). */
export type WildcardToken = string | null;

/**
 * Tokens of a wildcard value, or the reason it is rejected. Positions count the opening quote of the
 * JSON string, as EventBridge's messages do.
 */
export function parseWildcard(value: string): { tokens: WildcardToken[] } | { error: string } {
  const tokens: WildcardToken[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '*') {
      if (value[i + 1] === '*') return { error: `Consecutive wildcard characters at pos ${i + 1}` };
      tokens.push(null);
    } else if (c === '\\') {
      const next = value[i + 1];
      if (next !== '*' && next !== '\\') return { error: `Invalid escape character at pos ${i + 1}` };
      tokens.push(next);
      i++;
    } else {
      tokens.push(c);
    }
  }
  return { tokens };
}

/** A RegExp matching exactly the strings the wildcard matches. */
export function wildcardRegExp(tokens: readonly WildcardToken[]): RegExp {
  const source = tokens.map((t) => (t === null ? '.*' : t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's');
}

/**
 * EventBridge rejects wildcard rules whose matching could keep too many partial matches alive at
 * once. This estimates it the same way in spirit: the largest number of positions the wildcards of one
 * field can simultaneously be in while reading some value. Calibrated against recorded EventBridge
 * answers: `*:*:*:*:*:event-bus/*` (too complex) and `/Users/*\/dir/dir/dir/dir/dir/doc.txt` (accepted).
 */
export const MAX_WILDCARD_COMPLEXITY = 12;

/** Complexity of the wildcards of one field (see MAX_WILDCARD_COMPLEXITY); stops counting above the limit. */
export function wildcardComplexity(patterns: readonly (readonly WildcardToken[])[]): number {
  // Each pattern is an automaton over positions 0..n, framed by the quotes of the JSON string.
  const machines = patterns.map((tokens) => ['"', ...tokens, '"'] as WildcardToken[]);
  const closure = (machine: readonly WildcardToken[], positions: Iterable<number>): number[] => {
    const out = new Set<number>();
    for (let p of positions) {
      out.add(p);
      while (machine[p] === null) out.add(++p);
    }
    return [...out].sort((a, b) => a - b);
  };
  const alphabet = new Set<string>(['\u0000']);
  for (const machine of machines) for (const t of machine) if (t !== null) alphabet.add(t);
  const start = machines.map((m) => closure(m, [0]));
  const key = (state: number[][]) => state.map((s) => s.join(',')).join('|');
  const seen = new Set<string>([key(start)]);
  const pending = [start];
  let worst = 0;
  while (pending.length > 0 && seen.size < 5000) {
    const state = pending.pop() as number[][];
    for (const c of alphabet) {
      const next = state.map((positions, i) => {
        const machine = machines[i] as WildcardToken[];
        const moved: number[] = [];
        for (const p of positions) {
          if (machine[p] === null) moved.push(p);
          else if (machine[p] === c) moved.push(p + 1);
        }
        return closure(machine, moved);
      });
      const size = next.reduce((n, s) => n + s.length, 0);
      if (size === 0) continue;
      worst = Math.max(worst, size);
      if (worst > MAX_WILDCARD_COMPLEXITY) return worst;
      const k = key(next);
      if (!seen.has(k)) {
        seen.add(k);
        pending.push(next);
      }
    }
  }
  return worst;
}
