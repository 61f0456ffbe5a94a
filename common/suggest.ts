/** "Closest known names" for an unknown event name. */

import { editDistance } from './edit-distance.ts';

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
      return { name, score: editDistance(lower, candidate) - bonus };
    })
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, max)
    .map((entry) => entry.name);
}
