/**
 * The errors the worker distinguishes. Anything else a handler throws is retryable.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENV, type ErrorSummary } from '../../common/contracts.ts';

export type { ErrorSummary };

import { type TrimOptions, trimStack } from '../../common/stack.ts';

const NON_RETRYABLE = Symbol.for('event-router.non-retryable');

/**
 * Throw from an RPC handler when retrying cannot help (the payload names something that does not
 * exist, a business rule rejects it for good). The delivery goes straight to the RPC's DLQ with this
 * error's name and message, instead of being retried until `maxReceiveCount`.
 *
 * @example
 * if (!account) throw new NonRetryableError(`Account ${payload.accountId} does not exist`);
 */
export class NonRetryableError extends Error {
  readonly [NON_RETRYABLE] = true;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/**
 * Why a message can never be handled: it goes to the DLQ on its first receive.
 * `kind` becomes the `ErrorType` attribute of the DLQ message.
 */
export type PoisonKind = 'UnparseableMessage' | 'UnknownRpc' | 'UnknownEvent' | 'SchemaViolation';

/** A message that can never be handled, found before the handler runs. */
export class PoisonMessageError extends NonRetryableError {
  constructor(
    readonly kind: PoisonKind,
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

/** True when `error` says retrying cannot help (a {@link NonRetryableError}, also across bundles). */
export function isNonRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && NON_RETRYABLE in error;
}

/** Longest error message kept in a record or a DLQ attribute. */
export const MAX_ERROR_MESSAGE_CHARS = 1000;

/**
 * Reduces anything thrown to a name, a bounded message and whether a retry may succeed; with
 * `withStack`, also its bounded stack (an error the RPC threw: where in the user's code it failed).
 */
export function summarizeError(error: unknown, withStack = false): ErrorSummary {
  const name = error instanceof Error ? error.name : 'Error';
  const raw = error instanceof Error ? error.message : String(error);
  const message =
    raw.length > MAX_ERROR_MESSAGE_CHARS ? `${raw.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : raw;
  const stack = withStack && error instanceof Error ? trimStack(error.stack, stackOptions()) : undefined;
  return { name, message, retryable: !isNonRetryable(error), ...(stack ? { stack } : {}) };
}

/**
 * The longest tail of `path` that names a file of the project at `root`. The local runtime runs the
 * bundles from cdk.out/asset.*, one directory above where their source maps were written
 * (cdk.out/.bundles/*), so the maps' relative paths resolve one directory off.
 */
function locateInProject(root: string, path: string): string | undefined {
  const parts = path.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const tail = parts.slice(i).join('/');
    if (existsSync(join(root, tail))) return tail;
  }
  return undefined;
}

/**
 * Where stack paths are made relative to: the project (the local runtime says where it is). On
 * Lambda the source maps' relative paths resolve above the task root, to `/functions/...`: the
 * leading slash is dropped.
 */
function stackOptions(): TrimOptions {
  const env = typeof process === 'undefined' ? {} : process.env;
  const project = env[ENV.projectRoot];
  if (project) return { root: project, locate: (path) => locateInProject(project, path) };
  return { root: env.LAMBDA_TASK_ROOT, dropLeadingSlash: env.AWS_LAMBDA_FUNCTION_NAME !== undefined };
}
