/**
 * The errors the worker distinguishes. Anything else a handler throws is retryable.
 */

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

/** What the delivery record and the DLQ attributes keep of an error. */
export interface ErrorSummary {
  readonly name: string;
  readonly message: string;
  readonly retryable: boolean;
}

/** Longest error message kept in a record or a DLQ attribute. */
export const MAX_ERROR_MESSAGE_CHARS = 1000;

/** Reduces anything thrown to a name, a bounded message and whether a retry may succeed. */
export function summarizeError(error: unknown): ErrorSummary {
  const name = error instanceof Error ? error.name : 'Error';
  const raw = error instanceof Error ? error.message : String(error);
  const message =
    raw.length > MAX_ERROR_MESSAGE_CHARS ? `${raw.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : raw;
  return { name, message, retryable: !isNonRetryable(error) };
}
