/**
 * Runs a remote RPC: one Connect-protocol unary call (`POST <ER_REMOTE_URL>` with a JSON body).
 *
 * Request:
 * - body: the event payload, as JSON (the remote method's request message is the event payload);
 * - `Content-Type: application/json`, `Connect-Protocol-Version: 1`, `Connect-Timeout-Ms`;
 * - `Idempotency-Key: <eventId>:<rpc>`: the delivery's key, the same on every retry;
 * - `traceparent`: W3C, trace id derived from the correlation id (one trace per business flow);
 * - event metadata in headers, so the body stays the payload: `X-Event-Id`, `X-Event-Name`,
 *   `X-Event-Occurred-At`, `X-Correlation-Id`, `X-Causation-Id` (when set), `X-Delivery-Attempt`.
 *
 * Outcome: 2xx succeeds (the JSON response is recorded as the result); 408, 409, 429, 5xx, network
 * errors and timeouts are retryable; every other 4xx is a {@link NonRetryableError} (dead-lettered).
 *
 * Timeout: `ER_REMOTE_TIMEOUT_MS` (the plan gives the function timeout less the claim and the
 * recording, see remote-budget.ts), cut to the invocation's remaining time less what recording the
 * outcome needs; a call cut that way says so in its error.
 */

import { callBudgetMs, RECORD_RESERVE_MS } from '../../common/remote-budget.ts';
import type { WorkerConfig } from './config.ts';
import type { DeliveryContext } from './context.ts';
import { NonRetryableError } from './errors.ts';
import { traceparent } from './ids.ts';
import type { RpcRunner } from './scope.ts';

/** Characters of an error response body quoted in the error message. */
const MAX_QUOTED_BODY = 300;
/** 4xx statuses that mean "try again later". */
const RETRYABLE_4XX = new Set([408, 409, 429]);

/** A failed call to a remote RPC; `status` is undefined for network errors and timeouts. */
export class RemoteRpcError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RemoteRpcError';
  }
}

/** A remote RPC rejected the request for good (4xx other than 408/409/429). */
export class RemoteRpcRejectedError extends NonRetryableError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'RemoteRpcRejected';
  }
}

/** True for statuses worth retrying. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || RETRYABLE_4XX.has(status);
}

/** The request headers of a call for this delivery. */
export function remoteHeaders(ctx: DeliveryContext, timeoutMs: number): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'Connect-Protocol-Version': '1',
    'Connect-Timeout-Ms': String(timeoutMs),
    'Idempotency-Key': `${ctx.eventId}:${ctx.rpc}`,
    traceparent: traceparent(ctx.correlationId, `${ctx.eventId}:${ctx.rpc}:${ctx.attempt}`),
    'X-Event-Id': ctx.eventId,
    'X-Event-Name': ctx.eventName,
    'X-Event-Occurred-At': ctx.occurredAt,
    'X-Correlation-Id': ctx.correlationId,
    ...(ctx.causationId ? { 'X-Causation-Id': ctx.causationId } : {}),
    'X-Delivery-Attempt': String(ctx.attempt),
  };
}

/** Explains a non-2xx answer, quoting the Connect error (`{"code","message"}`) when there is one. */
function describeFailure(url: string, status: number, body: string): string {
  let detail = body.slice(0, MAX_QUOTED_BODY);
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string') detail = `${parsed.code}: ${String(parsed.message ?? '')}`;
  } catch {
    // not JSON: quote the text
  }
  return `POST ${url} answered ${status}${detail ? ` (${detail})` : ''}`;
}

/** Calls the remote endpoint once and returns its JSON (or text) response. */
export async function callRemote(
  url: string,
  payload: unknown,
  ctx: DeliveryContext,
  configuredTimeoutMs: number,
): Promise<unknown> {
  const { timeoutMs, cut } = callBudgetMs(configuredTimeoutMs, ctx.remainingTimeMs());
  const budget = cut
    ? ` (cut from the configured ${configuredTimeoutMs} ms to what the invocation could spare, keeping ${RECORD_RESERVE_MS} ms to record the outcome; raise the RPC's timeout)`
    : '';
  if (timeoutMs < 1)
    throw new RemoteRpcError(`POST ${url} was not called: the invocation had no time left for it${budget}`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: remoteHeaders(ctx, timeoutMs),
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new RemoteRpcError(
      timedOut
        ? `POST ${url} did not answer within ${timeoutMs} ms${budget}`
        : `POST ${url} failed: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`,
    );
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new RemoteRpcError(`POST ${url}: reading the response failed: ${String(error)}`, response.status);
  }
  if (response.ok) {
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  const message = describeFailure(url, response.status, text);
  if (isRetryableStatus(response.status)) throw new RemoteRpcError(message, response.status);
  throw new RemoteRpcRejectedError(message, response.status);
}

/** The runner of a remote RPC: every event it has a schema for (all, when validation is off). */
export function remoteRunner(): RpcRunner {
  return {
    handles: (eventName: string, config: WorkerConfig) =>
      config.eventSchemas === undefined || Object.hasOwn(config.eventSchemas, eventName),
    run: async (payload, ctx, config) => {
      if (!config.remoteUrl)
        throw new Error(
          'ER_REMOTE_URL is not set: the remote RPC worker does not know where to call. The construct sets it ' +
            'from the service\'s "remote.baseUrl" in event-router.yaml.',
        );
      return callRemote(config.remoteUrl, payload, ctx, config.remoteTimeoutMs);
    },
  };
}
