/**
 * The worker's structured JSON logger (Powertools), one per execution environment. Every line about
 * a delivery carries `rpc`, `eventId`, `correlationId` and `attempt`.
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

/** The Logger methods that write one line; the delivery's keys go with each. */
const LINE_METHODS = new Set<PropertyKey>(['trace', 'debug', 'info', 'warn', 'error', 'critical']);

/**
 * A logger for one delivery; concurrent deliveries of a batch do not share keys.
 *
 * A Powertools child logger per delivery (`createChild`: a new Console, the environment read again,
 * the options merged) cost about a tenth of the worker's CPU per delivery. This one writes each line
 * through `parent` with the delivery's keys as the line's first extra input, which gives the same
 * line as a child with those persistent keys would (same keys, same precedence: what the caller
 * passes wins; the Lambda context and the parent's keys as they are now). Anything else a handler
 * may call (appendKeys, createChild, setLogLevel, ...) first makes the real child, once, and from
 * then on every call goes to it, so keys a handler appends stay with its delivery.
 */
export function deliveryLogger(parent: Logger, keys: DeliveryLogKeys): Logger {
  let child: Logger | undefined;
  const materialize = (): Logger => {
    child ??= parent.createChild({ persistentKeys: { ...keys } });
    return child;
  };
  const lines = new Map<PropertyKey, (input: unknown, ...extra: unknown[]) => void>();
  return new Proxy(parent, {
    get(target, property) {
      if (child) {
        const value = Reflect.get(child, property, child) as unknown;
        return typeof value === 'function' ? value.bind(child) : value;
      }
      if (LINE_METHODS.has(property)) {
        let line = lines.get(property);
        if (!line) {
          const method = Reflect.get(target, property, target) as (...args: unknown[]) => void;
          line = (input, ...extra) => {
            if (child) (Reflect.get(child, property, child) as typeof method).call(child, input, ...extra);
            else method.call(target, input, keys, ...extra);
          };
          lines.set(property, line);
        }
        return line;
      }
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      // A method that may read or change the logger's state: from now on, the delivery's own child.
      const own = materialize();
      return (Reflect.get(own, property, own) as (...args: unknown[]) => unknown).bind(own);
    },
  });
}
