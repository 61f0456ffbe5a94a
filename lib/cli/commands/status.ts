/**
 * `event-router status <eventId>`: one Query on the deliveries table, then every RPC subscribed to the
 * event with its state (PENDING, IN_PROGRESS, COMPLETED, FAILED, DEAD), as the publish API's
 * `GET /events/{eventId}` shows it.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  buildStatus,
  type EventStatus,
  queryEvent,
  type RpcDeliveryState,
  withReceipt,
} from '../../../common/status.ts';
import { names } from '../../naming.ts';
import { filteredSubscriptionsByEvent, subscriptionsByEvent } from '../../plan/publish-api.ts';
import { loadRouterSpecOrReport, parseCommandArgs } from '../args.ts';
import { explainAwsError } from '../aws-errors.ts';
import { clientSettings } from '../client-settings.ts';
import { escapeTerminal } from '../escape-terminal.ts';

export const summary = 'Show, RPC by RPC, whether an event was handled';
export const usage = `event-router status <eventId> [options]

  --event <name>     the event's name: lists its subscribers as PENDING before any has received it
  --endpoint <url>   AWS endpoint, e.g. the local runtime (default: AWS_ENDPOINT_URL or AWS)
  --table <name>     default: the router's deliveries table from event-router.yaml
  --file <path>      the router file (default: event-router.yaml)
  --json             print the status as JSON (the API's answer)

Exit code: 0 when every subscribed RPC completed (a subscriber behind a content filter that has
no record is taken as filtered out once every other one is done), 3 while some are pending or in
progress, 4 when some failed or are dead or the bus did not accept the event, 1 when the event is
unknown.`;

function detail(state: RpcDeliveryState): string {
  switch (state.status) {
    case 'PENDING':
      return state.filtered
        ? 'not received yet (content filter: stays PENDING if the event does not match it)'
        : 'not received yet';
    case 'IN_PROGRESS':
      return `attempt ${state.attempts}${state.startedAt ? `, since ${state.startedAt}` : ''}${state.lockExpired ? ', claim expired (will be retried)' : ''}`;
    case 'COMPLETED':
      return `${state.completedAt ?? ''} (${state.attempts} attempt${state.attempts === 1 ? '' : 's'})`;
    case 'FAILED':
      return `${state.attempts} attempt${state.attempts === 1 ? '' : 's'}; last error ${state.lastError ? `${state.lastError.name}: ${state.lastError.message}` : 'unknown'}; will be retried`;
    case 'DEAD':
      return `in the DLQ since ${state.deadAt ?? '?'} ${state.attempts === 0 ? 'without running the RPC' : `after ${state.attempts} attempt${state.attempts === 1 ? '' : 's'}`}; ${state.lastError ? `${state.lastError.name}: ${state.lastError.message}` : ''}`;
  }
}

/** The status as lines for a terminal. */
export function formatStatus(status: EventStatus): string {
  const width = Math.max(0, ...status.rpcs.map((state) => state.rpc.length));
  const lines = [
    `Event ${status.eventId}${status.event ? ` (${status.event})` : ''}${status.correlationId ? `, correlation ${status.correlationId}` : ''}${status.causationId ? `, caused by ${status.causationId}` : ''}`,
    ...status.rpcs.flatMap((state) => [
      `  ${state.rpc.padEnd(width)}  ${state.status.padEnd(11)}  ${detail(state)}`,
      // Where the RPC's code failed: the bounded stack the worker recorded, one frame a line.
      ...('lastError' in state && state.lastError?.stack
        ? state.lastError.stack.split('\n').map((frame) => `      ${frame.trim()}`)
        : []),
    ]),
    summaryLine(status),
    ...(status.notOnBus
      ? [
          `Not on the bus: ${status.notOnBus.error.code}: ${status.notOnBus.error.message} (${status.notOnBus.at}).`,
          status.notOnBus.hint,
        ]
      : []),
  ];
  // Ids, names and error texts come from events: printed escaped.
  return lines.map(escapeTerminal).join('\n');
}

/**
 * True when the only subscribers not completed are PENDING behind a content filter: the deliveries
 * table keeps no payload, so whether the filter excluded the event cannot be checked, but with every
 * other delivery done that is what the missing record means.
 */
function doneExceptFiltered(status: EventStatus): boolean {
  const open = status.rpcs.filter((state) => state.status !== 'COMPLETED');
  return (
    status.summary.COMPLETED > 0 &&
    open.length > 0 &&
    open.every((state) => state.status === 'PENDING' && state.filtered === true)
  );
}

function summaryLine(status: EventStatus): string {
  const done = `${status.summary.COMPLETED} of ${status.rpcs.length} completed`;
  if (!doneExceptFiltered(status)) return done;
  const filtered = status.rpcs.length - status.summary.COMPLETED;
  return `${done}; ${filtered === 1 ? 'the other has' : `the other ${filtered} have`} a content filter and no delivery record: the event most likely did not match ${filtered === 1 ? 'it' : 'them'}`;
}

/** 0 all completed (or the rest filtered out), 4 some failed or dead or the event never reached the bus, 3 otherwise. */
export function exitCodeOf(status: EventStatus): number {
  if (status.notOnBus) return 4;
  if (status.completed || doneExceptFiltered(status)) return 0;
  return status.summary.FAILED + status.summary.DEAD > 0 ? 4 : 3;
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      event: { type: 'string' },
      endpoint: { type: 'string' },
      table: { type: 'string' },
      file: { type: 'string', short: 'f' },
      json: { type: 'boolean' },
    },
    usage,
  );
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [eventId, ...extra] = positionals;
  if (!eventId || extra.length > 0) {
    console.error(`status takes one eventId.\n\nUsage: ${usage}`);
    return 2;
  }
  const spec = loadRouterSpecOrReport(values.file);
  if (!spec) return 1;
  const subscriptions = subscriptionsByEvent(spec);
  const { endpoint, event: hint } = values;
  if (hint !== undefined && !spec.events.some((event) => event.name === hint)) {
    console.error(`--event ${hint}: not an event of ${spec.file}.`);
    return 1;
  }
  const client = new DynamoDBClient(clientSettings(endpoint));
  try {
    const table = values.table ?? names.deliveriesTableName({ app: spec.app.name, stage: spec.app.stage });
    const { records, receipt } = await queryEvent(DynamoDBDocumentClient.from(client), table, eventId);
    // An event published through the API names itself on its receipt, before any RPC has a record.
    const eventHint = hint ?? receipt?.eventName;
    const built = buildStatus(eventId, records, {
      subscriptions,
      filtered: filteredSubscriptionsByEvent(spec),
      ...(eventHint !== undefined ? { eventHint } : {}),
    });
    const status = built && withReceipt(built, receipt);
    if (!status) {
      console.error(
        `No RPC has received event ${eventId} yet (no delivery records in ${table}). If it was just published, ` +
          'retry in a moment, or pass --event <name> to list its subscribers.',
      );
      return 1;
    }
    console.log(values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    return exitCodeOf(status);
  } catch (error) {
    console.error(
      explainAwsError(error, endpoint) ??
        `Could not read the delivery status: ${(error as Error).name}: ${(error as Error).message}`,
    );
    return 1;
  } finally {
    client.destroy();
  }
}
