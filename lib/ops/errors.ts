/**
 * The error of an operation the operator cannot have as asked (unknown RPC, message not found, a
 * replay window that is not one, a replay name used before, ...): its message is written for the
 * operator, and `status` is the HTTP status the dashboard answers with.
 */
export class OpsError extends Error {
  override readonly name = 'OpsError';
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
