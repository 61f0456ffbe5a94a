/**
 * Validation of EventBridge event patterns, with EventBridge's own wording.
 */
import { compile, type PatternProblem } from './compile.ts';

export type { PatternProblem } from './compile.ts';

/** Every reason EventBridge would reject `pattern`, each with the path of the offending part. */
export function findPatternProblems(pattern: unknown): PatternProblem[] {
  return compile(pattern).problems;
}

/**
 * Every reason EventBridge would reject `pattern`, worded as the reason part of its error (e.g.
 * `Empty arrays are not allowed`); empty when the pattern is valid. `invalidPatternMessage` turns them
 * into the whole message EventBridge returns.
 */
export function validatePattern(pattern: unknown): string[] {
  return findPatternProblems(pattern).map((p) => p.message);
}

/** EventBridge's InvalidEventPatternException message for the first reason: `Event pattern is not valid. Reason: ...`. */
export function invalidPatternMessage(reasons: readonly string[]): string {
  return `Event pattern is not valid. Reason: ${reasons[0] ?? 'unknown'}`;
}
