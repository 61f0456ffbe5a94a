/**
 * Durations in the YAML: a number of seconds (`30`) or a number with a unit (`30s`, `5m`, `12h`, `4d`).
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds for a duration value, or an explanation of why it is not one. */
export function parseDuration(value: unknown): { seconds: number } | { error: string } {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0)
      return { error: `${value} is not a whole, non-negative number of seconds` };
    return { seconds: value };
  }
  if (typeof value !== 'string') return { error: 'expected a duration such as 30s, 5m, 12h or 4d' };
  const match = /^\s*(\d+)\s*([smhd])\s*$/.exec(value);
  if (!match)
    return { error: `"${value}" is not a duration; write a whole number with a unit: 30s, 5m, 12h or 4d` };
  const [, amount = '0', unit = 's'] = match;
  return { seconds: Number(amount) * (UNIT_SECONDS[unit] ?? 1) };
}

/** The shortest readable form of a number of seconds: 345600 -> `4d`, 90 -> `90s`. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
