/** "Closest known names" for an unknown event name. */

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Up to `max` known names closest to `input` (case-insensitive edit distance, ties by name). Names sharing
 * the input's last segment (`*.authorized`) rank as if one edit closer.
 */
export function closestNames(input: string, known: Iterable<string>, max = 3): string[] {
  const lower = input.toLowerCase();
  const tail = lower.split('.').pop() ?? '';
  return [...known]
    .map((name) => {
      const candidate = name.toLowerCase();
      const bonus = tail && candidate.endsWith(`.${tail}`) ? 1 : 0;
      return { name, score: distance(lower, candidate) - bonus };
    })
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, max)
    .map((entry) => entry.name);
}
