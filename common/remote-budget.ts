/**
 * How a remote RPC's invocation time is shared out: the claim before the call, the call, and the
 * recording of its outcome after it. Pure constants and functions, used by the worker (the call's
 * timeout at run time), the planner (`ER_REMOTE_TIMEOUT_MS`) and `validate` (the shortest timeout a
 * remote RPC may have).
 *
 * Measured (`npm run bench -- worker`, "recording an outcome"): the slowest way a record ends, a
 * dead letter (one SQS send + one conditional DynamoDB write), takes a few milliseconds against the
 * local runtime; on AWS each request is ~10-30 ms warm, and the SDK's retry of a throttled request
 * waits ~100-200 ms. The reserves below cover two requests with one retry each.
 */

/** Kept back after the call to record its outcome (dead letter: SQS send + DynamoDB write). */
export const RECORD_RESERVE_MS = 400;
/** What the worker spends before the call: parse, screen and the claim's conditional write. */
export const CLAIM_ALLOWANCE_MS = 200;
/** The shortest call worth making: a TLS handshake and one small request to a remote service. */
export const MIN_REMOTE_CALL_MS = 250;
/** Records of one batch a remote RPC's worker calls at once (its default concurrency). */
export const REMOTE_CONCURRENCY = 10;

/** The configured timeout of one call (`ER_REMOTE_TIMEOUT_MS`): the function timeout less the claim and the record. */
export function remoteCallTimeoutMs(functionTimeoutSeconds: number): number {
  return Math.max(1, functionTimeoutSeconds * 1000 - CLAIM_ALLOWANCE_MS - RECORD_RESERVE_MS);
}

/**
 * The shortest function timeout (whole seconds) that leaves every record of a batch of `batchSize` a
 * call of at least {@link MIN_REMOTE_CALL_MS}: the worker calls {@link REMOTE_CONCURRENCY} records at
 * once, so a larger batch calls in several rounds within one invocation.
 */
export function minimumRemoteTimeoutSeconds(batchSize: number): number {
  const rounds = Math.max(1, Math.ceil(batchSize / REMOTE_CONCURRENCY));
  return Math.ceil((CLAIM_ALLOWANCE_MS + rounds * MIN_REMOTE_CALL_MS + RECORD_RESERVE_MS) / 1000);
}

/**
 * The timeout of the call about to be made: the configured one, cut to what the invocation can
 * spare (its remaining time less {@link RECORD_RESERVE_MS}). `cut` is true when the invocation's
 * time, not the configuration, decided it.
 */
export function callBudgetMs(
  configuredMs: number,
  remainingMs: number,
): { readonly timeoutMs: number; readonly cut: boolean } {
  const spare = remainingMs - RECORD_RESERVE_MS;
  if (spare >= configuredMs) return { timeoutMs: configuredMs, cut: false };
  return { timeoutMs: Math.max(0, Math.floor(spare)), cut: true };
}
