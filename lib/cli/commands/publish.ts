/**
 * `event-router publish <event> <json|@file>`: validates the payload against the event's schema, puts it
 * on the router's bus as one of the event's declared external publishers (its source, its envelope:
 * PutEvents, FailedEntryCount checked, retried) and prints the eventId. `--endpoint` (or AWS_ENDPOINT_URL)
 * points it at the local runtime. On AWS the caller's role needs that publisher's managed policy.
 */
import { readFileSync } from 'node:fs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { publisherSource } from '../../../common/naming.ts';
import { createEventPublisher, PublishError } from '../../../common/publisher.ts';
import type { RouterSpec } from '../../config/types.ts';
import { names } from '../../naming.ts';
import { loadRouterSpecOrReport, parseCommandArgs } from '../args.ts';
import { explainAwsError } from '../aws-errors.ts';
import { clientSettings } from '../client-settings.ts';

export const summary = 'Publish one event to the bus (validated against its schema) and print its eventId';
export const usage = `event-router publish <event> <json|@file> [options]

  <event>                   the event name, e.g. card.transaction.authorized
  <json|@file>              the payload as JSON, or @path of a JSON file
  --idempotency-key <key>   the same key always yields the same eventId
  --correlation-id <id>     default: the new eventId
  --as <Publisher>          the declared publisher to publish as (default: the event's first external one)
  --endpoint <url>          AWS endpoint, e.g. the local runtime (default: AWS_ENDPOINT_URL or AWS)
  --bus <name>              default: the router's bus from event-router.yaml
  --file <path>             the router file (default: event-router.yaml)
  --json                    print {"eventId", "event"} as JSON`;

/** Reads `<json|@file>`; throws an error written for the person at the terminal. */
function readPayload(argument: string): unknown {
  const fromFile = argument.startsWith('@');
  const text = fromFile ? readFileSync(argument.slice(1), 'utf8') : argument;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(
      `The payload ${fromFile ? `in ${argument.slice(1)} ` : ''}is not valid JSON: ${(error as Error).message}. ` +
        `Quote it for the shell, e.g. '{"transactionId":"t-1"}', or pass @payload.json.`,
    );
  }
}

/** The schemas and versions of every event in the spec, as the publisher wants them. */
function catalogOf(spec: RouterSpec) {
  return {
    schemas: Object.fromEntries(spec.events.map((event) => [event.name, event.schema])),
    schemaVersions: Object.fromEntries(spec.events.map((event) => [event.name, event.schemaVersion])),
  };
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      'idempotency-key': { type: 'string' },
      'correlation-id': { type: 'string' },
      as: { type: 'string' },
      endpoint: { type: 'string' },
      bus: { type: 'string' },
      file: { type: 'string', short: 'f' },
      json: { type: 'boolean' },
    },
    usage,
  );
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [eventName, payloadArgument, ...extra] = positionals;
  if (!eventName || payloadArgument === undefined || extra.length > 0) {
    console.error(`publish takes an event name and a payload.\n\nUsage: ${usage}`);
    return 2;
  }
  const spec = loadRouterSpecOrReport(values.file);
  if (!spec) return 1;
  let payload: unknown;
  try {
    payload = readPayload(payloadArgument);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  const as = publisherFor(spec, eventName, values.as);
  if (typeof as !== 'string') {
    console.error(`Not published: ${as.error}`);
    return 1;
  }
  const { endpoint } = values;
  const client = new EventBridgeClient(clientSettings(endpoint));
  const publisher = createEventPublisher<Record<string, unknown>>(catalogOf(spec), {
    busName: values.bus ?? names.busName({ app: spec.app.name, stage: spec.app.stage }),
    publisher: as,
    source: publisherSource(spec.app.name, as),
    client,
  });
  try {
    const eventId = await publisher.publish(eventName, payload, {
      ...(values['idempotency-key'] !== undefined ? { idempotencyKey: values['idempotency-key'] } : {}),
      ...(values['correlation-id'] !== undefined ? { correlationId: values['correlation-id'] } : {}),
    });
    console.log(values.json ? JSON.stringify({ eventId, event: eventName }) : eventId);
    return 0;
  } catch (error) {
    if (error instanceof PublishError && error.problems.length > 0) {
      console.error(`Not published: ${eventName} is refused.`);
      for (const problem of error.problems)
        console.error(`  ${problem.field.replace(/^entries\[0\]\./, '')}: ${problem.message}`);
      return 1;
    }
    console.error(
      explainAwsError(sendError(error), endpoint) ?? `Not published: ${(error as Error).message}`,
    );
    return 1;
  } finally {
    client.destroy();
  }
}

/** The error the bus call failed with: a publish outcome keeps its name and message, not the object. */
function sendError(error: unknown): unknown {
  if (!(error instanceof PublishError)) return error;
  const outcome = error.results[0]?.outcome;
  return outcome && !outcome.ok ? { name: outcome.errorCode, message: outcome.errorMessage } : error;
}

/** The external publisher to publish `eventName` as: `--as`, else the event's first external publisher. */
function publisherFor(
  spec: RouterSpec,
  eventName: string,
  as: string | undefined,
): string | { error: string } {
  const event = spec.events.find((e) => e.name === eventName);
  if (!event) return as ?? ''; // the publisher reports the unknown event with its closest names
  const external = event.publishers.filter((name) => spec.publishers.some((p) => p.name === name));
  if (as !== undefined)
    return external.includes(as)
      ? as
      : { error: `${as} may not publish "${eventName}"; its publisher is ${event.publisher}.` };
  return (
    external[0] ?? {
      error: `"${eventName}" is a follow-up: only ${event.publisher} publishes it, while handling an event.`,
    }
  );
}
