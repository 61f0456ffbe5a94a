/**
 * The tuning options of a worker (`defineRpc(..., options)`): defaults merged with what the RPC
 * sets, checked when the module loads so a typo fails the deployment's first test, not production.
 */
import { MAX_VISIBILITY_SECONDS } from '../../common/aws-limits.ts';
import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.ts';
import { MAX_RESULT_BYTES } from './result.ts';

/** Tuning of a worker; every field has a default. */
export interface WorkerOptions {
  /** Records of one batch handled at the same time, 1..1000. @default 10 */
  readonly concurrency?: number;
  /** Delay before a failed delivery is retried. @default { baseSeconds: 10, maxSeconds: 900 } */
  readonly backoff?: Partial<BackoffOptions>;
  /** Largest result stored verbatim, in bytes, 64..102400. @default 8192 */
  readonly maxResultBytes?: number;
}

/** The options with every default applied. */
export interface ResolvedWorkerOptions {
  readonly concurrency: number;
  readonly backoff: BackoffOptions;
  readonly maxResultBytes: number;
}

export const DEFAULT_WORKER_OPTIONS: ResolvedWorkerOptions = {
  concurrency: 10,
  backoff: DEFAULT_BACKOFF,
  maxResultBytes: MAX_RESULT_BYTES,
};

const KNOWN = new Set(['concurrency', 'backoff', 'maxResultBytes']);
const KNOWN_BACKOFF = new Set(['baseSeconds', 'maxSeconds']);

function checkInteger(problems: string[], name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    problems.push(`${name} is ${value}; use a whole number from ${min} to ${max}`);
}

/** Merges `options` over the defaults; throws one error listing every problem. */
export function resolveWorkerOptions(options: WorkerOptions = {}): ResolvedWorkerOptions {
  const resolved: ResolvedWorkerOptions = {
    concurrency: options.concurrency ?? DEFAULT_WORKER_OPTIONS.concurrency,
    backoff: { ...DEFAULT_WORKER_OPTIONS.backoff, ...options.backoff },
    maxResultBytes: options.maxResultBytes ?? DEFAULT_WORKER_OPTIONS.maxResultBytes,
  };
  const problems: string[] = [];
  for (const key of Object.keys(options))
    if (!KNOWN.has(key)) problems.push(`"${key}" is not an option (known: ${[...KNOWN].join(', ')})`);
  for (const key of Object.keys(options.backoff ?? {}))
    if (!KNOWN_BACKOFF.has(key))
      problems.push(`"backoff.${key}" is not an option (known: baseSeconds, maxSeconds)`);
  checkInteger(problems, 'concurrency', resolved.concurrency, 1, 1000);
  checkInteger(problems, 'backoff.baseSeconds', resolved.backoff.baseSeconds, 0, MAX_VISIBILITY_SECONDS);
  checkInteger(problems, 'backoff.maxSeconds', resolved.backoff.maxSeconds, 0, MAX_VISIBILITY_SECONDS);
  checkInteger(problems, 'maxResultBytes', resolved.maxResultBytes, 64, 102_400);
  if (problems.length > 0) throw new Error(`Invalid worker options: ${problems.join('; ')}.`);
  return resolved;
}
