/**
 * What an RPC handler is given besides the payload.
 */
import type { Logger } from '@aws-lambda-powertools/logger';

/** The untyped delivery context; `defineRpc` narrows `eventName` and `publish` to the generated event types. */
export interface DeliveryContext {
  /** `Service/Method` being run. */
  readonly rpc: string;
  readonly eventId: string;
  readonly eventName: string;
  /** ISO-8601 instant the event happened. */
  readonly occurredAt: string;
  /** Handler runs started for this delivery, this one included (1 on the first run). */
  readonly attempt: number;
  readonly correlationId: string;
  /** eventId of the event whose handling published this one. */
  readonly causationId?: string;
  /** Structured logger with rpc, eventId, correlationId and attempt on every line. */
  readonly logger: Logger;
  /**
   * Publishes a follow-up event on the router's bus and resolves to its eventId. It carries this
   * event's correlationId, has this eventId as causationId, and gets the same eventId when this
   * delivery is re-run. Rejects when EventBridge does not accept it after retries.
   */
  publish(eventName: string, payload: unknown): Promise<string>;
  /** Milliseconds before the Lambda invocation times out. */
  remainingTimeMs(): number;
}
