/**
 * "Did you mean" suggestions by edit distance, for unknown keys and unknown names.
 */

import { editDistance } from '../../common/edit-distance.ts';

/**
 * The candidate closest to `input`, if it is close enough to be a plausible typo (case differences
 * count as small edits), else undefined.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const score = candidate.toLowerCase() === lower ? 0.5 : editDistance(lower, candidate.toLowerCase());
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.min(3, Math.floor(Math.max(input.length, best.length) / 3)));
  return bestScore <= limit ? best : undefined;
}

/** `Did you mean "x"?` or an empty string. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const best = closest(input, candidates);
  return best === undefined ? '' : `Did you mean "${best}"?`;
}
