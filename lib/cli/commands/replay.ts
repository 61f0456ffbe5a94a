/**
 * `event-router replay --from <time> --to <time> [--event <name>] [--rpc <Service/Method>]
 * [--rerun-completed] [--yes]`: replays a window of the bus archive to the chosen RPCs' rules only, follows
 * the replay to its end with progress, and reports what the workers did (lib/ops/replay.ts); `replay
 * status <name>` and `replay cancel <name>` for a replay started before.
 */

import { OpsError } from '../../ops/errors.ts';
import type { Operations } from '../../ops/operations.ts';
import {
  countsLine,
  parseWhen,
  planReplay,
  type ReplayPlan,
  type ReplayStatus,
  totalCounts,
} from '../../ops/replay.ts';
import { loadRouterSpecOrReport, parseCommandArgs } from '../args.ts';
import { escapeTerminal } from '../escape-terminal.ts';
import { confirm, explainOpsError, openOps } from '../ops-context.ts';

export const summary = 'Replay a time window of the bus archive to chosen RPCs, and count what ran';
export const usage = `event-router replay --from <time> --to <time> [options]
event-router replay status <name>
event-router replay cancel <name>

  --from <time>        start of the window (event time): an ISO instant, "now", or a time ago: 30m, 2h, 1d
  --to <time>          end of the window (not included)
  --event <name>       only this event (repeatable; default: every event the chosen RPCs receive)
  --rpc <rpc>          only this RPC, Service/Method (repeatable; default: every RPC of the chosen events)
  --rerun-completed    run deliveries that already completed (or were dead-lettered) again, as new
                       attempts (after a handler bug was fixed); without it the dedup skips them
  --name <name>        the replay's name (default: <app>-<stage>-replay-<time>-<random>)
  --yes                do not ask for confirmation
  --wait <seconds>     how long to wait for the workers after the replay ends (default 60)
  --json               the result as JSON
  --endpoint <url>     AWS endpoint, e.g. http://127.0.0.1:4010 (default: AWS_ENDPOINT_URL or AWS)
  --file <path>        the router file (default: event-router.yaml)

Deliveries that already COMPLETED are skipped by the worker's dedup, and so are DEAD ones (their dead
letter waits in the DLQ: redrive it); every other delivery runs. --rerun-completed makes the chosen RPCs
run all of them again, once per replay.`;

function printPlan(plan: ReplayPlan): void {
  const e = escapeTerminal;
  console.log(
    `Replay ${e(plan.name)} of archive ${e(plan.archiveName)}: events from ${plan.from} to ${plan.to}`,
  );
  for (const rule of plan.rules)
    console.log(`  rule ${e(rule.name)}: ${e(rule.event)} -> ${rule.rpcs.map(e).join(', ')}`);
  if (plan.alsoReached.length > 0)
    console.log(
      `  these rules also deliver to ${plan.alsoReached.map(e).join(', ')} (normal dedup there: completed deliveries are skipped, never rerun)`,
    );
  console.log(
    plan.rerunCompleted
      ? `  --rerun-completed: ${plan.rpcs.map(e).join(', ')} run every replayed delivery again, completed ones included, as new attempts`
      : '  completed deliveries are skipped by the dedup; dead-lettered ones too (redrive their dead letters); the others run',
  );
}

function progressLine(status: ReplayStatus): string {
  const total = totalCounts(status.counts);
  const where = status.lastReplayed ? `, replayed up to ${status.lastReplayed}` : '';
  return `${status.state}${where}; workers: ${countsLine(total)}`;
}

function printResult(status: ReplayStatus & { pending?: number }): void {
  const e = escapeTerminal;
  console.log(
    `Replay ${e(status.name)} ${status.state}${status.stateReason ? ` (${e(status.stateReason)})` : ''}.`,
  );
  const chosen = new Set(status.rpcs);
  for (const c of [...status.counts].sort((a, b) => Number(chosen.has(b.rpc)) - Number(chosen.has(a.rpc))))
    console.log(
      `  ${e(c.rpc)}: ${countsLine(c)}${chosen.has(c.rpc) ? '' : ' (not chosen; reached through a chosen rule)'}`,
    );
  for (const rpc of status.rpcs)
    if (!status.counts.some((c) => c.rpc === rpc)) console.log(`  ${e(rpc)}: replayed 0`);
  if (status.pending)
    console.log(
      `  ${status.pending} message(s) are still in these RPCs' queues (retries, or other traffic): the counts may grow; see \`event-router replay status ${e(status.name)}\`.`,
    );
}

/** A progress line redrawn in place on a terminal, else printed when it changes. */
function progress(): { update(status: ReplayStatus): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let last = '';
  return {
    update(status) {
      const line = progressLine(status);
      if (line === last) return;
      last = line;
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else console.error(line);
    },
    done() {
      if (tty && last) process.stderr.write('\n');
    },
  };
}

async function follow(
  ops: Operations,
  name: string,
  rpcs: readonly string[],
  waitSeconds: number,
  json: boolean,
): Promise<number> {
  const bar = progress();
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    const result = await ops.replays.follow(name, {
      ...(json ? {} : { onProgress: (s: ReplayStatus) => bar.update(s) }),
      pending: () => ops.pendingIn(rpcs),
      settleMs: waitSeconds * 1000,
      signal: stop.signal,
    });
    bar.done();
    if (stop.signal.aborted)
      console.error(
        `Stopped following; the replay goes on. \`event-router replay status ${name}\` shows it, \`event-router replay cancel ${name}\` stops it.`,
      );
    else await ops.replays.recordEnd(result);
    if (json) console.log(JSON.stringify(result, null, 2));
    else printResult(result);
    return result.state === 'COMPLETED' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      from: { type: 'string' },
      to: { type: 'string' },
      event: { type: 'string', multiple: true },
      rpc: { type: 'string', multiple: true },
      'rerun-completed': { type: 'boolean' },
      name: { type: 'string' },
      yes: { type: 'boolean' },
      wait: { type: 'string' },
      json: { type: 'boolean' },
      endpoint: { type: 'string' },
      file: { type: 'string' },
    },
    usage,
  );
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [action, name] = positionals;
  if ((action !== undefined && action !== 'status' && action !== 'cancel') || (action && !name)) {
    console.error(`Usage: ${usage}`);
    return 2;
  }
  const wait = values.wait === undefined ? 60 : Number(values.wait);
  if (!Number.isFinite(wait) || wait < 0) {
    console.error(`--wait must be seconds (0 or more), got "${values.wait}".`);
    return 2;
  }
  if (action === undefined) {
    const problems: string[] = [];
    const from = values.from === undefined ? undefined : parseWhen(values.from);
    const to = values.to === undefined ? undefined : parseWhen(values.to);
    if (!from)
      problems.push(
        `--from ${values.from === undefined ? 'is required' : `"${values.from}" is not a time`}: an ISO instant (2026-12-04T21:00:00Z), "now", or a time ago (30m, 2h, 1d).`,
      );
    if (!to)
      problems.push(
        `--to ${values.to === undefined ? 'is required' : `"${values.to}" is not a time`}: an ISO instant, "now", or a time ago (30m, 2h, 1d).`,
      );
    if (problems.length > 0) {
      console.error(problems.join('\n'));
      return 2;
    }
    const spec = loadRouterSpecOrReport(values.file);
    if (!spec) return 1;
    let plan: ReplayPlan;
    try {
      plan = planReplay(spec, {
        from: from as Date,
        to: to as Date,
        ...(values.event ? { events: values.event } : {}),
        ...(values.rpc ? { rpcs: values.rpc } : {}),
        ...(values['rerun-completed'] ? { rerunCompleted: true } : {}),
        ...(values.name ? { name: values.name } : {}),
      });
    } catch (error) {
      console.error(error instanceof OpsError ? error.message : String(error));
      return 2;
    }
    if (!values.json) printPlan(plan);
    if (!values.yes && !(await confirm('Start this replay?'))) {
      console.error(
        process.stdin.isTTY
          ? 'Not confirmed; nothing replayed.'
          : 'Nothing replayed: confirm with --yes (no terminal to ask on).',
      );
      return 1;
    }
    const context = openOps(values.file, values.endpoint);
    if (!context) return 1;
    try {
      await context.ops.replays.start(plan);
      return await follow(context.ops, plan.name, plan.rpcs, wait, values.json === true);
    } catch (error) {
      console.error(explainOpsError(error, 'replay', values.endpoint));
      return 1;
    } finally {
      context.close();
    }
  }
  const context = openOps(values.file, values.endpoint);
  if (!context) return 1;
  try {
    if (action === 'cancel') {
      const state = await context.ops.replays.cancel(name as string);
      console.log(`Replay ${escapeTerminal(name as string)}: ${state}; what it replayed stays replayed.`);
      return 0;
    }
    const status = await context.ops.replays.status(name as string);
    const pending = status.rpcs.length ? await context.ops.pendingIn(status.rpcs) : 0;
    if (values.json) console.log(JSON.stringify({ ...status, pending }, null, 2));
    else printResult({ ...status, pending });
    return 0;
  } catch (error) {
    console.error(explainOpsError(error, `replay ${action}`, values.endpoint));
    return 1;
  } finally {
    context.close();
  }
}
