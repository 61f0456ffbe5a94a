/**
 * The dev server's terminal lines: one per delivery (event, RPC, outcome, attempt, milliseconds),
 * one per dead-lettered message, one per API request, and routing problems. Function output is shown
 * with `--verbose`; stderr always, except the worker's outcome lines the delivery line already tells.
 *
 * The runtime (lib/local) emits structured records (`RuntimeEvents`: DeliveryLog, RouteLog,
 * ApiRequestLog); this module is where they become text.
 */

import { userFrames } from '../../../common/stack.ts';
import type { DeliveryLog } from '../../local/lambda/poller.ts';
import type { RuntimeEvents } from '../../local/runtime/runtime.ts';
import type { ApiRequestLog } from '../../local/services/apigateway.ts';
import type { RouteLog } from '../../local/services/eventbridge/bus.ts';
import { escapeTerminal as esc } from '../escape-terminal.ts';
import { color } from './color.ts';

function clock(): string {
  return color.dim(new Date().toISOString().slice(11, 23));
}

function shortId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}

/** The mark and the words of a delivery's outcome. */
function describeOutcome(d: DeliveryLog): { mark: string; text: string } {
  switch (d.outcome) {
    case 'ok':
      return { mark: color.green('✓'), text: color.green('ok') };
    case 'duplicate':
      return {
        mark: color.dim('='),
        text: color.dim(
          d.duplicateOf === 'dead-lettered'
            ? 'duplicate (dead-lettered; redrive to run again)'
            : 'duplicate (already completed)',
        ),
      };
    case 'in-progress-elsewhere':
      return { mark: color.yellow('↻'), text: color.yellow('in progress elsewhere (retry later)') };
    case 'rescheduled':
      return {
        mark: color.yellow('↻'),
        text: color.yellow(
          `rescheduled to its next attempt${d.retryInSeconds === undefined ? '' : ` in ${d.retryInSeconds} s`} (backoff)`,
        ),
      };
    case 'dead-lettered':
      return {
        mark: color.red('☠'),
        text: color.red(`dead-lettered: ${esc(d.errorType ?? 'unknown error')}`),
      };
    default:
      return { mark: color.red('✗'), text: color.red(esc(d.outcome)) };
  }
}

/**
 * The attempt of a delivery: the worker's count when it said (it survives a redrive), else the SQS
 * receive count; both when they differ, e.g. `attempt 6 (receive 1)` after a redrive.
 */
function describeAttempt(d: DeliveryLog): string {
  if (d.workerAttempt === undefined || d.workerAttempt === d.attempt) return `attempt ${d.attempt}`;
  return `attempt ${d.workerAttempt} ${color.dim(`(receive ${d.attempt})`)}`;
}

/** One delivery as a line. */
export function formatDelivery(d: DeliveryLog): string {
  const { mark, text } = describeOutcome(d);
  const error = d.error
    ? `  ${color.dim(esc(d.error.length > 160 ? `${d.error.slice(0, 157)}...` : d.error))}`
    : '';
  return `${clock()} ${mark} ${esc(d.eventName)} ${color.dim(esc(shortId(d.eventId)))} → ${color.bold(esc(d.rpc))}  ${text}  ${describeAttempt(d)}  ${d.ms} ms${error}`;
}

/** Frames of the user's code shown under a failed delivery without `--verbose`. */
export const TOP_FRAMES = 3;

/**
 * The stack lines under a failed or dead-lettered delivery: the top frames of the user's code
 * (`at handler (functions/rpcs/x.ts:12:7)`), or with `verbose` the whole (bounded) stack. Escaped.
 */
export function formatStack(d: Pick<DeliveryLog, 'stack'>, verbose: boolean): string[] {
  if (!d.stack) return [];
  const frames = verbose ? d.stack.split('\n') : userFrames(d.stack).slice(0, TOP_FRAMES);
  return frames.map((frame) => `    ${color.dim(esc(frame.trim()))}`);
}

export function formatRoute(r: RouteLog): string | undefined {
  const name = esc(String(r.event['detail-type']));
  const id = esc(
    shortId(
      String((r.event.detail as { metadata?: { eventId?: string } } | null)?.metadata?.eventId ?? r.event.id),
    ),
  );
  const error = esc(r.error ?? '');
  switch (r.outcome) {
    case 'unmatched':
      return `${clock()} ${color.yellow('·')} ${name} ${color.dim(id)} matched no rule`;
    case 'no-bus':
      return `${clock()} ${color.red('⚠')} ${name} ${color.dim(id)}: ${r.error}`;
    case 'retrying':
      return `${clock()} ${color.yellow('↻')} ${name} ${color.dim(id)} → ${r.targetArn.split(':').pop()}: ${error} (attempt ${r.attempt}, retrying)`;
    case 'dead-lettered':
      return `${clock()} ${color.red('☠')} ${name} ${color.dim(id)} → ${r.targetArn.split(':').pop()}: ${error}; sent to the rule target's DLQ`;
    case 'dropped':
      return `${clock()} ${color.red('☠')} ${name} ${color.dim(id)} → ${r.targetArn.split(':').pop()}: ${error}; dropped (no DLQ)`;
    default:
      return undefined;
  }
}

export function formatApi(a: ApiRequestLog): string {
  const status = a.status < 400 ? color.green(String(a.status)) : color.red(String(a.status));
  return `${clock()} ${color.cyan('⇄')} ${a.method} ${esc(a.path)} → ${a.functionName}  ${status}  ${a.ms} ms`;
}

/**
 * True for the worker's own log line that says how a record ended (JSON with `outcome` and
 * `messageId`): the delivery line already says it, so it is shown only with `--verbose`.
 */
export function isOutcomeLine(line: string): boolean {
  if (!line.startsWith('{') || !line.includes('"outcome"')) return false;
  try {
    const parsed = JSON.parse(line) as { outcome?: unknown; messageId?: unknown };
    return typeof parsed.outcome === 'string' && typeof parsed.messageId === 'string';
  } catch {
    return false;
  }
}

/** Runtime events printed to the terminal. */
export function terminalEvents(options: { verbose: boolean; write?: (line: string) => void }): RuntimeEvents {
  const write = options.write ?? ((line: string) => console.log(line));
  return {
    // A delivery and the frames under it in one write, so that a reader of the output (a pipe, a
    // log collector) never gets the delivery line without its stack.
    delivery: (d) => write([formatDelivery(d), ...formatStack(d, options.verbose)].join('\n')),
    route: (r) => {
      const line = formatRoute(r);
      if (line) write(line);
    },
    deadLettered: (message, from, to) => {
      const body = message.body;
      let what = message.id;
      try {
        const parsed = JSON.parse(body) as { rpc?: string; event?: { 'detail-type'?: string } };
        what = `${parsed.event?.['detail-type'] ?? '?'} → ${parsed.rpc ?? from.name}`;
      } catch {
        // Not one of ours: show the message id.
      }
      write(
        `${clock()} ${color.red('☠')} ${esc(what)}: moved from ${from.name} to ${to.name} after ${from.config.redrivePolicy?.maxReceiveCount ?? '?'} receives`,
      );
    },
    api: (a) => write(formatApi(a)),
    functionOutput: (fn, stream, line) => {
      if (options.verbose || (stream === 'stderr' && !isOutcomeLine(line)))
        write(`${color.dim(`  ${fn} |`)} ${esc(line)}`);
    },
    error: (error) =>
      write(`${clock()} ${color.red('error')} ${esc((error as Error).message ?? String(error))}`),
  };
}
