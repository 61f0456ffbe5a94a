/**
 * `event-router failures [redrive <group>]`: every dead letter across the RPCs, grouped by RPC + error
 * type + a fingerprint of the message, read without moving anything (lib/ops); and the redrive of one
 * group as it was when you confirmed (later arrivals are not swept in), at a rate, journaled.
 */

import { join } from 'node:path';
import { SQS } from '../../../common/aws-limits.ts';
import { RedriveJournal } from '../../ops/journal.ts';
import type { FailureGroup, FailureReport } from '../../ops/operations.ts';
import { parseCommandArgs } from '../args.ts';
import { escapeTerminal } from '../escape-terminal.ts';
import { confirm, explainOpsError, openOps, parseRate } from '../ops-context.ts';
import { journalPath, runSetRedrive } from './dlq.ts';

export const summary = 'Dead letters of every RPC grouped by failure; redrive a group safely';
export const usage = `event-router failures [options]
event-router failures redrive <group> [--rate <n>] [--dry-run] [--yes]

  (no action)          groups every dead letter by RPC + error type + message fingerprint: count,
                       first and last failure, a sample error, example eventIds
  redrive <group>      moves the messages of one group (its id from the list, or a unique prefix) back
                       to the RPC's queue: the set is frozen when you confirm
    --rate <n>         at most n messages per second (1..500), so a recovering dependency is not hammered
    --dry-run          lists what would move, moves nothing
    --yes              do not ask for confirmation
  --rpc <rpc>          only this RPC's DLQ (repeatable)
  --hide <seconds>     how long a read may hide a message (default 30; reading never moves anything,
                       and a killed run's messages are visible again after this)
  --json               the report as JSON
  --endpoint <url>     AWS endpoint, e.g. http://127.0.0.1:4010 (default: AWS_ENDPOINT_URL or AWS)
  --file <path>        the router file (default: event-router.yaml)
  --journal-dir <dir>  where redrive journals go (default: .event-router/ops)`;

/** Where a group was read from, as the report names it. */
const SOURCE_LABEL: Record<FailureGroup['source'], string> = {
  index: 'from DEAD records',
  dlq: 'from the DLQ',
  'index+dlq': 'from DEAD records and the DLQ',
};

function printReport(report: FailureReport): void {
  for (const r of report.rpcs) {
    if (r.error) console.log(`! ${r.rpc}: ${r.error}`);
    else if (!r.complete)
      console.log(
        `! ${r.rpc}: read ${r.read} of about ${r.approximate} dead letters in the time allowed (--hide); the groups below are partial.`,
      );
  }
  if (report.groups.length === 0) {
    console.log('No dead letters.');
    return;
  }
  for (const g of report.groups) printGroup(g);
  const total = report.groups.reduce((n, g) => n + g.count, 0);
  console.log(`${total} dead letter(s) in ${report.groups.length} group(s), read at ${report.takenAt}.`);
}

function printGroup(g: FailureGroup): void {
  const e = escapeTerminal;
  console.log(
    `${g.id}  ${String(g.count).padStart(6)}  ${g.rpc}  ${e(g.errorType)}: ${e(g.signature)}  [${SOURCE_LABEL[g.source]}]`,
  );
  console.log(
    `    first ${e(g.firstFailedAt ?? '?')}, last ${e(g.lastFailedAt ?? '?')}; events ${e(g.eventNames.join(', ') || '?')}; e.g. ${e(g.eventIds.join(', ') || '-')}`,
  );
  const sample = g.sampleError
    .split('\n')
    .slice(0, 6)
    .map((line) => e(line))
    .join('\n      ');
  console.log(`    sample (${e(g.sampleMessageId)}):\n      ${sample}`);
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      rpc: { type: 'string', multiple: true },
      rate: { type: 'string' },
      hide: { type: 'string' },
      'dry-run': { type: 'boolean' },
      yes: { type: 'boolean' },
      json: { type: 'boolean' },
      endpoint: { type: 'string' },
      file: { type: 'string' },
      'journal-dir': { type: 'string' },
    },
    usage,
  );
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [action, groupId] = positionals;
  if (
    (action !== undefined && action !== 'redrive') ||
    (action === 'redrive' && !groupId) ||
    positionals.length > 2
  ) {
    console.error(`Usage: ${usage}`);
    return 2;
  }
  const rate = parseRate(values.rate);
  if (rate === 'invalid') {
    console.error(`--rate must be a number of messages per second from 1 to 500, got "${values.rate}".`);
    return 2;
  }
  const hide = values.hide === undefined ? undefined : Number(values.hide);
  if (
    hide !== undefined &&
    (!Number.isInteger(hide) || hide < 2 || hide > SQS.visibilityTimeoutSeconds.max)
  ) {
    console.error(
      `--hide must be whole seconds from 2 to ${SQS.visibilityTimeoutSeconds.max}, got "${values.hide}".`,
    );
    return 2;
  }
  const context = openOps(values.file, values.endpoint);
  if (!context) return 1;
  const { ops } = context;
  try {
    const report = await ops.failureGroups({
      ...(values.rpc ? { rpcs: values.rpc } : {}),
      ...(hide ? { hideSeconds: hide } : {}),
    });
    if (!action) {
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else printReport(report);
      return 0;
    }
    const candidates = report.groups.filter((g) => g.id.startsWith(groupId as string));
    if (candidates.length !== 1) {
      console.error(
        candidates.length === 0
          ? `No failure group "${groupId}" now. Groups: ${report.groups.map((g) => `${g.id} (${g.count}, ${g.rpc})`).join(', ') || 'none'}.`
          : `"${groupId}" names ${candidates.length} groups (${candidates.map((g) => g.id).join(', ')}); give more of the id.`,
      );
      return 1;
    }
    const group = candidates[0] as FailureGroup;
    // The frozen set: the group's DLQ messages, and the messages of its DEAD records, by their DeadLetterId.
    const ids = await ops.groupMessageIds(group);
    if (values['dry-run']) {
      console.log(`Would move these ${ids.length} message(s) of ${group.rpc} (group ${group.id}):`);
      for (const id of ids) console.log(`  ${id}`);
      return 0;
    }
    printGroup(group);
    if (
      !values.yes &&
      !(await confirm(
        `Move these ${ids.length} message(s) back to the queue of ${group.rpc}${rate ? ` at ${rate}/s` : ''}?`,
      ))
    ) {
      console.error(
        process.stdin.isTTY
          ? 'Not confirmed; nothing moved.'
          : 'Nothing moved: confirm with --yes (no terminal to ask on).',
      );
      return 1;
    }
    const what = `group ${group.id} (${group.errorType}: ${group.signature})`;
    // The set is frozen here: the ids the group had when the operator confirmed.
    const journal = RedriveJournal.create(
      journalPath(values['journal-dir'] ?? join('.event-router', 'ops'), group.rpc),
      {
        rpc: group.rpc,
        ids,
        ...(rate ? { rate } : {}),
        who: await ops.whoami(),
        what,
        at: new Date().toISOString(),
      },
    );
    return await runSetRedrive(ops, journal, {
      ...(rate ? { rate } : {}),
      ...(hide ? { hideSeconds: hide } : {}),
      what,
    });
  } catch (error) {
    console.error(explainOpsError(error, action ? `failures ${action}` : 'failures', values.endpoint));
    return 1;
  } finally {
    context.close();
  }
}
