/**
 * The worker's structured JSON logger (Powertools), one per execution environment. Each delivery
 * logs through a child carrying `rpc`, `eventId`, `correlationId` and `attempt` on every line.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ENV } from '../../common/contracts.ts';

/** Service name on every line: POWERTOOLS_SERVICE_NAME, else the RPC id. */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME || process.env[ENV.rpc] || 'event-router-worker',
});

/** Keys every line about one delivery carries. */
export interface DeliveryLogKeys {
  readonly rpc: string;
  readonly eventId: string;
  readonly correlationId: string;
  /** Handler run this line belongs to; 0 before the delivery is claimed (nothing has run). */
  readonly attempt: number;
  readonly eventName?: string;
  readonly messageId: string;
}

/** A child logger for one delivery; concurrent deliveries of a batch do not share keys. */
export function deliveryLogger(parent: Logger, keys: DeliveryLogKeys): Logger {
  return parent.createChild({ persistentKeys: { ...keys } });
}
