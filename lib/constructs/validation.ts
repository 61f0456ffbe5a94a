/**
 * Construct props validation: collect every problem first, then fail once with all of them.
 */
import type { IConstruct } from 'constructs';

/** Thrown when a construct's props are invalid; `problems` lists each one. */
export class InvalidPropsError extends Error {
  readonly problems: readonly string[];

  constructor(where: string, problems: readonly string[]) {
    super(`${where} is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'InvalidPropsError';
    this.problems = problems;
  }
}

/** Throws an InvalidPropsError naming `what` (under `scope`) when `problems` is not empty. */
export function failOnProblems(scope: IConstruct, what: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  const path = scope.node.path;
  throw new InvalidPropsError(path ? `${what} (in ${path})` : what, problems);
}

/** Adds a problem when `value` is not an integer within `min`..`max`. */
export function checkRange(
  problems: string[],
  field: string,
  value: number,
  min: number,
  max: number,
  unit: string,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${field} is ${value}${unit}; it must be a whole number from ${min} to ${max}${unit}.`);
  }
}
