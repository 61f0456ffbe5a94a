/**
 * Step 1, screen: reads the body and turns away what can never be handled (poison), before any
 * DynamoDB write: an unparseable body, a message addressed to another RPC, an event this RPC has no
 * function for, a payload that breaks the event's schema.
 */
import { type ErrorSummary, PoisonMessageError, summarizeError } from '../errors.ts';
import { type Delivery, parseMessage, peekEventId } from '../message.ts';
import type { WorkerScope } from '../scope.ts';

export type Screened =
  | { readonly kind: 'delivery'; readonly delivery: Delivery }
  | {
      readonly kind: 'poison';
      readonly error: ErrorSummary;
      /** The RPC and event the message was addressed to, for the dead letter's attributes. */
      readonly address: { readonly rpc: string; readonly eventId?: string };
      /** Set when the delivery is this worker's own (its record says DEAD). */
      readonly delivery?: Delivery;
    };

export function screen(scope: WorkerScope, body: string): Screened {
  const { config, runner, validator } = scope;
  let delivery: Delivery;
  try {
    delivery = parseMessage(body, config.rpc);
  } catch (error) {
    return {
      kind: 'poison',
      error: summarizeError(error),
      address: { rpc: config.rpc, eventId: peekEventId(body) },
    };
  }
  const address = { rpc: delivery.rpc, eventId: delivery.eventId };
  if (delivery.rpc !== config.rpc) {
    const error = new PoisonMessageError(
      'UnknownRpc',
      `The message is addressed to RPC "${delivery.rpc}" but arrived at the worker of "${config.rpc}". ` +
        'A rule target points at the wrong queue: run `event-router validate` and redeploy.',
    );
    return { kind: 'poison', error: summarizeError(error), address };
  }
  if (!runner.handles(delivery.eventName, config)) {
    const error = new PoisonMessageError(
      'UnknownEvent',
      `${config.rpc} has no handler for event "${delivery.eventName}". Add it to the RPC's defineRpc() ` +
        'or remove the subscription from event-router.yaml.',
    );
    return { kind: 'poison', error: summarizeError(error), address, delivery };
  }
  try {
    validator.validate(delivery.eventName, delivery.payload);
  } catch (error) {
    return { kind: 'poison', error: summarizeError(error), address, delivery };
  }
  return { kind: 'delivery', delivery };
}
