/**
 * The text `event-router dev` prints once it runs: where it listens, what it runs, and ready commands
 * to publish an example event, the friendliest (the publish API) first. Pure: it formats what it is given.
 */
import { color } from './present/color.ts';

/** An example event for the banner, built from the router file. */
export interface BannerExample {
  readonly busName: string;
  readonly eventName: string;
  /** The EventBridge detail (the envelope) as a JSON string. */
  readonly detail: string;
  readonly payload: unknown;
  /** The declared external publisher the example is published as. */
  readonly publisher: string;
  /** Its EventBridge source (rules deliver only events from an event's declared publishers). */
  readonly source: string;
}

/** Messages that were in flight when the runtime last stopped (restored from its state). */
export interface BannerRecovered {
  readonly messages: number;
  /** Epoch ms when the first of them becomes visible again. */
  readonly firstVisibleAt: number | undefined;
}

/** Everything the banner shows. */
export interface BannerInfo {
  readonly url: string;
  readonly region: string;
  readonly dashboard: boolean;
  /** Absolute state directory, or undefined when state is kept in memory. */
  readonly stateDir: string | undefined;
  readonly buses: readonly string[];
  readonly rules: number;
  readonly queues: number;
  readonly dlqs: number;
  readonly functions: number;
  readonly polled: number;
  readonly tables: readonly string[];
  readonly apis: readonly { url: string; alias?: string | undefined; routes: readonly string[] }[];
  /** Resource types of the templates that need no local behaviour. */
  readonly ignored: readonly string[];
  readonly problems: readonly string[];
  readonly recovered?: BannerRecovered | undefined;
  readonly example?: BannerExample | undefined;
  /** Lists the ignored resource types one by one instead of counting them. */
  readonly verbose?: boolean;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}

/** The shell line that points AWS SDK v3 clients and the AWS CLI at the local runtime. */
function exportLine(info: BannerInfo): string {
  return `export AWS_ENDPOINT_URL=${info.url} AWS_REGION=${info.region} AWS_DEFAULT_REGION=${info.region} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`;
}

/** The lines that publish the example event: the publish API first, then PutEvents on the bus. */
function publishLines(info: BannerInfo, example: BannerExample): string[] {
  const lines: string[] = [];
  const publishApi = info.apis.find((a) => a.routes.includes('POST /events'));
  if (publishApi) {
    const base = publishApi.alias ?? publishApi.url;
    const body = JSON.stringify({ event: example.eventName, payload: example.payload });
    lines.push(
      `Publish an example ${example.eventName} event (locally a request that names no publisher acts as the event's declared publisher, here ${example.publisher}; add -H 'X-Event-Router-Publisher: <Name>' to act as another):`,
    );
    lines.push(`  curl -s -X POST ${base}/events -H 'Content-Type: application/json' -d ${shellQuote(body)}`);
    if (publishApi.routes.includes('GET /events/{eventId}'))
      lines.push(
        color.dim(`  then follow it: curl -s ${base}/events/<eventId>  (or the dashboard's event lookup)`),
      );
    lines.push('');
    lines.push(
      `Or put it on the bus yourself as ${example.publisher} (source ${example.source}), with any AWS SDK v3 client, the AWS CLI or this CLI:`,
    );
  } else {
    lines.push(
      `Publish an example ${example.eventName} event with any AWS SDK v3 client, the AWS CLI or this CLI:`,
    );
  }
  const entries = [
    {
      EventBusName: example.busName,
      Source: example.source,
      DetailType: example.eventName,
      Detail: example.detail,
    },
  ];
  lines.push(`  ${exportLine(info)}`);
  lines.push(
    `  npx event-router publish ${example.eventName} ${shellQuote(JSON.stringify(example.payload))}`,
  );
  lines.push(
    `  curl -s ${info.url}/ -H 'X-Amz-Target: AWSEvents.PutEvents' -H 'Content-Type: application/x-amz-json-1.1' -d ${shellQuote(JSON.stringify({ Entries: entries }))}`,
  );
  lines.push(`  aws events put-events --entries ${shellQuote(JSON.stringify(entries))}`);
  lines.push(color.dim('  (this entry has a fixed eventId: sent again, its deliveries show as duplicates)'));
  return lines;
}

/** The start banner of `event-router dev`. */
export function formatBanner(info: BannerInfo): string {
  const lines: string[] = [];
  lines.push(`${color.bold('event-router dev')} is running at ${color.bold(info.url)}`);
  if (info.dashboard)
    lines.push(`  dashboard   ${info.url}/  (events -> RPCs, queue and DLQ depths, deliveries, redrive)`);
  lines.push(
    `  state       ${info.stateDir ? `${info.stateDir} (survives restarts)` : 'in memory (lost on exit)'}`,
  );
  if (info.recovered && info.recovered.messages > 0) {
    const when =
      info.recovered.firstVisibleAt !== undefined
        ? `, the first at ${clockTime(info.recovered.firstVisibleAt)} UTC`
        : '';
    lines.push(
      color.yellow(
        `  recovered   ${info.recovered.messages} message(s) in flight when it last stopped: retried once their visibility timeout ends${when}`,
      ),
    );
  }
  lines.push(
    `  runs        ${info.buses.join(', ') || 'default bus'} (${info.rules} rules), ${info.queues} queues (${info.dlqs} DLQs), ${info.functions} functions (${info.polled} polled), tables ${info.tables.join(', ') || 'none'}`,
  );
  for (const api of info.apis) {
    lines.push(`  api         ${api.alias ?? api.url}  (${api.routes.join(', ')})`);
    if (api.alias) lines.push(color.dim(`              also ${api.url}`));
  }
  if (info.ignored.length > 0)
    lines.push(
      color.dim(
        info.verbose
          ? `  not emulated (no local behaviour needed): ${info.ignored.join(', ')}`
          : `  not emulated: ${info.ignored.length} resource types that need no local behaviour (--verbose lists them)`,
      ),
    );
  for (const problem of info.problems) lines.push(color.yellow(`  ! ${problem}`));
  lines.push('');
  if (info.example) lines.push(...publishLines(info, info.example));
  else {
    lines.push('Point any AWS SDK v3 client, the AWS CLI or this CLI at it:');
    lines.push(`  ${exportLine(info)}`);
  }
  lines.push('');
  lines.push(
    color.dim('Each delivery prints one line: event, RPC, outcome, attempt, milliseconds. Ctrl-C stops.'),
  );
  return lines.join('\n');
}
