/**
 * `event-router dlq list | peek | redrive | edit | purge | resume`: the dead-letter queues of the
 * router's RPCs. A thin presentation of lib/ops (the same operations the dashboard calls), through
 * real SQS and DynamoDB clients, so it works against the local runtime (AWS_ENDPOINT_URL or
 * --endpoint) and against AWS alike.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@aws-sdk/client-sqs';
import { DLQ_ATTRIBUTES } from '../../../common/contracts.ts';
import { type DeadLetter, readDeadLetter } from '../../ops/dead-letter.ts';
import { RedriveJournal } from '../../ops/journal.ts';
import type { Operations, RedriveSetReport } from '../../ops/operations.ts';
import { parseCommandArgs } from '../args.ts';
import { escapeTerminal } from '../escape-terminal.ts';
import {
  confirm,
  confirmByTyping,
  explainOpsError,
  openOps,
  parseRate,
  progressReporter,
} from '../ops-context.ts';

export const summary = 'List, inspect, redrive, edit and purge the dead-letter queues of the RPCs';
export const usage = `event-router dlq <action> [options]

  list                          every RPC with the depth of its queue and its DLQ
  peek <rpc>                    shows up to --max messages of the RPC's DLQ (they stay in the DLQ)
  redrive <rpc>                 moves the whole DLQ back to the RPC's queue (a message move task) and
                                follows that task to its end
    --filter <text>             only the messages whose body or attributes contain <text>: the set is
                                frozen when you confirm, then moved copy-then-delete (journaled)
    --rate <n>                  at most n messages per second (1..500)
    --dry-run                   lists what would move, moves nothing
  edit <rpc> <messageId>        opens the message's payload in $EDITOR (or takes --payload), checks it
                                against the event's schema, sends the edited copy, deletes the original
    --payload <json | @file>    the edited payload instead of $EDITOR
  purge <rpc>                   deletes every message of the RPC's DLQ (asks you to type the queue name)
  resume <journal>              finishes a filtered or group redrive that was interrupted
  cancel <rpc> <taskHandle>     cancels a running message move task (what it moved stays moved)

  --yes                         do not ask for confirmation (redrive --filter, purge)
  --max <n>                     peek: at most n messages (default 10)
  --endpoint <url>              AWS endpoint, e.g. http://127.0.0.1:4010 (default: AWS_ENDPOINT_URL or AWS)
  --file <path>                 the router file (default: event-router.yaml)
  --journal-dir <dir>           where redrive journals go (default: .event-router/ops)

<rpc> is Service/Method, e.g. NotificationService/NotifyCardholder.`;

/** One dead letter as `dlq peek` prints it: id, event, when it was sent, and its attributes. */
export function describeLetter(d: DeadLetter): string {
  const what = d.eventName || d.eventId ? `${d.eventName ?? '?'} ${d.eventId ?? ''}` : d.body.slice(0, 80);
  const attrs = Object.entries(d.attributes)
    .map(([k, v]) =>
      // The stack one frame a line, under its name.
      k === DLQ_ATTRIBUTES.errorStack && v.StringValue
        ? `    ${k}:\n${v.StringValue.split('\n')
            .map((frame) => `      ${escapeTerminal(frame.trim())}`)
            .join('\n')}`
        : `    ${escapeTerminal(k)}: ${escapeTerminal(v.StringValue ?? '(binary)')}`,
    )
    .join('\n');
  const sent = d.sentAt !== undefined ? new Date(d.sentAt).toISOString() : '?';
  return `${escapeTerminal(d.messageId)}  ${escapeTerminal(what)}\n    sent ${sent}, receive count ${d.receiveCount ?? '?'} (this peek included)${attrs ? `\n${attrs}` : ''}`;
}

/** `describeLetter` of a received SQS message. */
export function describeDeadLetter(m: Message): string {
  return describeLetter(readDeadLetter('', m));
}

/** Where a new journal goes. */
export function journalPath(dir: string, rpc: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dir, `redrive-${rpc.replace(/[^A-Za-z0-9]+/g, '-')}-${stamp}.jsonl`);
}

/** Prints what a set redrive did; exit code 0 when everything moved. */
export function printSetReport(report: RedriveSetReport, journal: RedriveJournal | undefined): number {
  console.log(
    `Moved ${report.moved.length} of ${report.total} message(s) back to the queue of ${report.rpc}.`,
  );
  if (report.notFound.length > 0)
    console.log(
      `${report.notFound.length} message(s) of the set were no longer in the DLQ (moved or purged by someone else, or held by another reader): ${report.notFound.slice(0, 10).join(', ')}${report.notFound.length > 10 ? ', ...' : ''}`,
    );
  for (const f of report.failed)
    console.log(`Not moved (still in the DLQ): ${escapeTerminal(f.messageId)}: ${escapeTerminal(f.reason)}`);
  if (report.interrupted && journal)
    console.log(
      `Interrupted. Nothing is lost: moved messages are in the queue, the others still in the DLQ. Finish with: event-router dlq resume ${journal.path}`,
    );
  return report.moved.length === report.total ? 0 : 1;
}

/** Runs a journaled set redrive with a progress bar; Ctrl-C stops after the batch in hand. */
export async function runSetRedrive(
  ops: Operations,
  journal: RedriveJournal,
  options: { rate?: number; what: string; hideSeconds?: number },
): Promise<number> {
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const bar = progressReporter(`${journal.start.rpc}:`);
  try {
    console.error(`Journal: ${journal.path}`);
    const report = await ops.redriveSet(journal.start.rpc, journal.start.ids, {
      journal,
      ...(options.rate ? { rate: options.rate } : {}),
      ...(options.hideSeconds ? { hideSeconds: options.hideSeconds } : {}),
      what: options.what,
      signal: abort.signal,
      onProgress: (p) => bar.update(p),
    });
    bar.done();
    return printSetReport(report, journal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function readPayloadOption(value: string): unknown {
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(
      `The payload ${value.startsWith('@') ? `in ${value.slice(1)} ` : ''}is not JSON: ${(error as Error).message}`,
    );
  }
}

/** Opens `payload` in $EDITOR until it parses and fits the schema (or the operator gives up). */
async function editInEditor(ops: Operations, eventName: string, payload: unknown): Promise<unknown> {
  const editor = process.env.VISUAL || process.env.EDITOR;
  if (!editor)
    throw new Error('Set $EDITOR (or $VISUAL), or give the edited payload with --payload <json | @file>.');
  const dir = mkdtempSync(join(tmpdir(), 'event-router-edit-'));
  const file = join(dir, 'payload.json');
  try {
    let text = `${JSON.stringify(payload, null, 2)}\n`;
    for (;;) {
      writeFileSync(file, text);
      const result = spawnSync(editor, [file], { stdio: 'inherit', shell: true });
      if (result.status !== 0) throw new Error(`${editor} exited with ${result.status}; nothing was sent.`);
      text = readFileSync(file, 'utf8');
      let edited: unknown;
      let problems: string[];
      try {
        edited = JSON.parse(text);
        problems = ops
          .validatePayload(eventName, edited)
          .map((v) => `  ${v.pointer || '(payload)'} ${v.message}`);
      } catch (error) {
        problems = [`  not JSON: ${(error as Error).message}`];
      }
      if (problems.length === 0) return edited;
      console.error(`The payload does not fit the schema of ${eventName}:\n${problems.join('\n')}`);
      if (!(await confirm('Edit again?'))) throw new Error('Nothing was sent.');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      filter: { type: 'string' },
      max: { type: 'string' },
      rate: { type: 'string' },
      'dry-run': { type: 'boolean' },
      yes: { type: 'boolean' },
      payload: { type: 'string' },
      endpoint: { type: 'string' },
      file: { type: 'string' },
      'journal-dir': { type: 'string' },
    },
    usage,
  );
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [action, subject, messageId] = positionals;
  const actions = ['list', 'peek', 'redrive', 'edit', 'purge', 'resume', 'cancel'];
  if (
    !action ||
    !actions.includes(action) ||
    (action !== 'list' && !subject) ||
    ((action === 'edit' || action === 'cancel') && !messageId)
  ) {
    console.error(`Usage: ${usage}`);
    return 2;
  }
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    console.error(`--max must be a positive whole number, got "${values.max}".`);
    return 2;
  }
  const rate = parseRate(values.rate);
  if (rate === 'invalid') {
    console.error(`--rate must be a number of messages per second from 1 to 500, got "${values.rate}".`);
    return 2;
  }
  const context = openOps(values.file, values.endpoint);
  if (!context) return 1;
  const { ops } = context;
  const journalDir = values['journal-dir'] ?? join('.event-router', 'ops');
  try {
    if (action === 'list') {
      // Every queue is read before anything is printed: a failure prints its reason, not half a table.
      const depths = await ops.depths();
      const failed = depths.flatMap((d) => [d.queue, d.dlq]).find((q) => 'error' in q);
      if (failed && 'error' in failed) throw new Error(failed.error);
      console.log(
        `${'RPC'.padEnd(48)} ${'queue'.padStart(7)} ${'in flight'.padStart(9)} ${'DLQ'.padStart(6)}`,
      );
      for (const { rpc, queue, dlq } of depths) {
        if ('error' in queue || 'error' in dlq) continue;
        console.log(
          `${rpc.padEnd(48)} ${String(queue.visible).padStart(7)} ${String(queue.inFlight).padStart(9)} ${String(dlq.visible + dlq.inFlight).padStart(6)}`,
        );
      }
      return 0;
    }
    if (action === 'resume') {
      if (!existsSync(subject as string)) {
        console.error(`No journal at ${subject}. Journals are in ${journalDir}.`);
        return 1;
      }
      const journal = RedriveJournal.open(subject as string);
      if (journal.ended && journal.deleted.size === journal.start.ids.length) {
        console.log(
          `That redrive already finished: ${journal.deleted.size} of ${journal.start.ids.length} moved.`,
        );
        return 0;
      }
      console.error(
        `Resuming the redrive of ${journal.start.ids.length} message(s) of ${journal.start.rpc}: ${journal.deleted.size} moved before.`,
      );
      return await runSetRedrive(ops, journal, {
        ...((rate ?? journal.start.rate) ? { rate: rate ?? journal.start.rate } : {}),
        what: `${journal.start.what} (resumed)`,
      });
    }
    const rpc = ops.rpc(subject as string);
    if (action === 'peek') {
      const letters = await ops.peek(rpc.rpc, max ?? 10);
      if (letters.length === 0) console.log(`The DLQ of ${rpc.rpc} (${rpc.dlqName}) is empty.`);
      for (const d of letters) console.log(describeLetter(d));
      return 0;
    }
    if (action === 'cancel') {
      const moved = await ops.cancelRedrive(rpc.rpc, messageId as string);
      console.log(`Cancelled move task ${messageId} of ${rpc.dlqName}: ${moved} message(s) had moved.`);
      return 0;
    }
    if (action === 'purge') {
      const depth = await ops.depth(rpc.dlqName);
      const count = 'error' in depth ? '?' : depth.visible + depth.inFlight + depth.delayed;
      if (
        !values.yes &&
        !(await confirmByTyping(
          `Purge deletes all ${count} message(s) of ${rpc.dlqName} for good.`,
          rpc.dlqName,
        ))
      ) {
        console.error(
          process.stdin.isTTY
            ? 'Not confirmed; nothing was purged.'
            : 'Not purged: confirm with --yes (no terminal to ask on).',
        );
        return 1;
      }
      const result = await ops.purge(rpc.rpc);
      console.log(`Purged ${result.queueName}: ${result.count} message(s) deleted.`);
      return 0;
    }
    if (action === 'edit') {
      const letter = await ops.letter(rpc.rpc, messageId as string);
      const { eventName, payload } = ops.payloadOf(letter);
      const edited =
        values.payload !== undefined
          ? readPayloadOption(values.payload)
          : await editInEditor(ops, eventName, payload);
      const result = await ops.edit(rpc.rpc, messageId as string, edited);
      console.log(
        `Sent the edited copy ${result.messageId} of ${result.originalMessageId} to the queue of ${result.rpc} (RerunId ${result.rerunId}); the original left the DLQ.${result.recordNoted ? ` The delivery record of ${result.eventId} notes the edit.` : ''}`,
      );
      return 0;
    }
    // redrive
    if (values.filter === undefined) {
      if (values['dry-run']) {
        const depth = await ops.depth(rpc.dlqName);
        console.log(
          `Would start a message move task of ${rpc.dlqName} (about ${'error' in depth ? '?' : depth.visible} message(s)) into ${rpc.queueName}.`,
        );
        return 0;
      }
      const started = await ops.startRedrive(rpc.rpc, rate);
      console.log(
        `Started message move task ${started.taskHandle} from ${rpc.dlqName} to ${rpc.queueName} ...`,
      );
      const bar = progressReporter(`${rpc.rpc}:`);
      const state = await ops.followMoveTask(rpc.rpc, started.taskHandle, (s) =>
        bar.update({ rpc: rpc.rpc, total: s.toMove ?? s.moved, moved: s.moved }),
      );
      bar.done();
      console.log(
        `Task ${state.taskHandle}: ${state.status}, ${state.moved} moved${state.failureReason ? ` (${state.failureReason})` : ''}.`,
      );
      return state.status === 'COMPLETED' ? 0 : 1;
    }
    const filter = values.filter;
    const matching = await ops.matching(rpc.rpc, filter);
    if (values['dry-run']) {
      console.log(`Would move ${matching.length} message(s) of ${rpc.dlqName} matching "${filter}":`);
      for (const d of matching) console.log(describeLetter(d));
      return 0;
    }
    if (matching.length === 0) {
      console.log(`No message of ${rpc.dlqName} matches "${filter}"; nothing moved.`);
      return 0;
    }
    if (
      !values.yes &&
      !(await confirm(
        `Move ${matching.length} message(s) of ${rpc.dlqName} matching "${filter}" back to ${rpc.queueName}?`,
      ))
    ) {
      console.error(
        process.stdin.isTTY
          ? 'Not confirmed; nothing moved.'
          : 'Nothing moved: confirm with --yes (no terminal to ask on).',
      );
      return 1;
    }
    const what = `filter "${filter}"`;
    const journal = RedriveJournal.create(journalPath(journalDir, rpc.rpc), {
      rpc: rpc.rpc,
      ids: matching.map((d) => d.messageId),
      ...(rate ? { rate } : {}),
      who: await ops.whoami(),
      what,
      at: new Date().toISOString(),
    });
    return await runSetRedrive(ops, journal, { ...(rate ? { rate } : {}), what });
  } catch (error) {
    console.error(explainOpsError(error, `dlq ${action}`, values.endpoint));
    return 1;
  } finally {
    context.close();
  }
}
