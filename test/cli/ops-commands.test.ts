/**
 * The ops commands as an operator runs them (`event-router failures | dlq | audit`, real processes)
 * against the local runtime holding the queues of this repository's event-router.yaml: groups, a dry
 * run, a group redrive killed with SIGKILL mid-run and resumed (nothing lost), whole-queue and filtered
 * redrive, edit with an invalid then a valid payload, purge with and without confirmation, the audit.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { main } from '../../lib/cli/main.ts';
import { loadRouterSpec } from '../../lib/codegen/spec.ts';
import { type DashboardHarness, startDashboardHarness } from '../dashboard/harness.ts';
import { ManualClock } from '../support/clock.ts';
import { authorizedPayload } from '../worker/support/harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FILE = join(ROOT, 'event-router.yaml');
const BIN = join(ROOT, 'bin', 'event-router.js');
const LEDGER = 'LedgerService/RecordTransaction';
const NOTIFY = 'NotificationService/NotifyCardholder';
const RECEIPT = 'ReceiptService/RequestReceipt';
const EVENT = 'card.transaction.authorized';

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
}

describe('ops commands (the CLI against the local runtime)', { timeout: 180_000 }, () => {
  let h: DashboardHarness;
  /** The runtime's time: a message the redrive hid comes back when the test moves it. */
  const clock = new ManualClock();
  const cwd = mkdtempSync(join(tmpdir(), 'er-ops-cli-'));
  /** Where a process started in `cwd` keeps its journals by default. */
  const JOURNALS = join(cwd, '.event-router', 'ops');
  const JOURNALED = new Set(['dlq', 'failures']);
  const operatorBefore = process.env.EVENT_ROUTER_OPERATOR;

  before(async () => {
    process.env.EVENT_ROUTER_OPERATOR = 'test:cli';
    const { spec } = loadRouterSpec(FILE);
    assert.ok(spec);
    h = await startDashboardHarness(spec, { clock });
  });
  after(async () => {
    if (operatorBefore === undefined) delete process.env.EVENT_ROUTER_OPERATOR;
    else process.env.EVENT_ROUTER_OPERATOR = operatorBefore;
    await h?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  interface Started {
    readonly child: ChildProcess;
    readonly done: Promise<Run>;
    err(): string;
    /** Resolves once the command's stderr matches `pattern`; rejects if it ends first. */
    printed(pattern: RegExp): Promise<void>;
  }

  function start(args: string[]): Started {
    const child = spawn(process.execPath, [BIN, ...args, '--file', FILE, '--endpoint', h.runtime.url], {
      cwd,
      env: { ...process.env, EVENT_ROUTER_OPERATOR: 'test:cli', AWS_ENDPOINT_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const done = new Promise<Run>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal, out, err })),
    );
    const printed = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(err)) return;
          child.stderr?.off('data', check);
          resolve();
        };
        child.stderr?.on('data', check);
        void done.then(() => reject(new Error(`the command ended before printing ${pattern}: ${err}`)));
        check();
      });
    return { child, done, err: () => err, printed };
  }

  /** Runs a command in this process (fast), capturing what it prints; journals go under `cwd`. */
  async function cli(...args: string[]): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const { log, error } = console;
    console.log = (...parts: unknown[]) => out.push(parts.join(' '));
    console.error = (...parts: unknown[]) => err.push(parts.join(' '));
    try {
      const code = await main([
        ...args,
        '--file',
        FILE,
        '--endpoint',
        h.runtime.url,
        ...(JOURNALED.has(args[0] ?? '') ? ['--journal-dir', JOURNALS] : []),
      ]);
      return {
        code,
        signal: null,
        out: out.map((l) => `${l}\n`).join(''),
        err: err.map((l) => `${l}\n`).join(''),
      };
    } finally {
      console.log = log;
      console.error = error;
    }
  }

  async function deadLetters(rpc: string, count: number, error: (i: number) => string, prefix: string) {
    for (let i = 0; i < count; i++)
      await h.deadLetter(
        rpc,
        EVENT,
        `${prefix}-${i}`,
        { type: 'LedgerError', message: error(i) },
        {
          payload: authorizedPayload(`${prefix}-tx-${i}`),
        },
      );
  }

  async function everything(rpc: string, which: 'queue' | 'dlq'): Promise<Message[]> {
    const out = new Map<string, Message>();
    for (;;) {
      const { Messages = [] } = await h.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: await h.queueUrl(rpc, which),
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 120,
        }),
      );
      if (Messages.length === 0) return [...out.values()];
      for (const m of Messages) out.set(m.MessageId ?? '', m);
    }
  }

  const eventIdOf = (m: Message) =>
    (JSON.parse(m.Body ?? '{}') as { event: { detail: { metadata: { eventId: string } } } }).event.detail
      .metadata.eventId;

  it('lists failure groups and dry-runs a group redrive without moving anything', async () => {
    await deadLetters(LEDGER, 12, (i) => `ledger timed out after ${3000 + i} ms`, 'kill');
    await deadLetters(LEDGER, 2, () => 'account "acme" is closed', 'closed');
    const list = await cli('failures');
    assert.equal(list.code, 0, list.err);
    assert.match(
      list.out,
      /^[0-9a-f]{12} {6}12 {2}LedgerService\/RecordTransaction {2}LedgerError: ledger timed out after <n> ms {2}\[from the DLQ\]$/m,
    );
    assert.match(
      list.out,
      /^[0-9a-f]{12} {7}2 {2}LedgerService\/RecordTransaction {2}LedgerError: account <value> is closed {2}\[from the DLQ\]$/m,
    );
    assert.match(list.out, /14 dead letter\(s\) in 2 group\(s\)/);
    const json = JSON.parse((await cli('failures', '--json')).out) as {
      groups: Array<{ id: string; count: number }>;
    };
    const big = json.groups.find((g) => g.count === 12);
    assert.ok(big);
    const dry = await cli('failures', 'redrive', big.id.slice(0, 6), '--dry-run');
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /Would move these 12 message\(s\)/);
    assert.deepEqual(await h.depth(LEDGER, 'dlq'), { visible: 14, inFlight: 0 });
    assert.deepEqual(await h.depth(LEDGER, 'queue'), { visible: 0, inFlight: 0 });
  });

  // A real process, killed with SIGKILL.
  it('survives kill -9 mid-redrive: nothing lost, and the resumed run finishes the frozen set', async () => {
    const json = JSON.parse((await cli('failures', '--json')).out) as {
      groups: Array<{ id: string; count: number }>;
    };
    const big = json.groups.find((g) => g.count === 12);
    assert.ok(big);
    // When the group redrive runs at 2 messages/s and is killed once it has moved some
    const run = start(['failures', 'redrive', big.id, '--rate', '2', '--yes', '--hide', '2']);
    await run.printed(/\b([2-9]|1[01])\/12 moved/);
    run.child.kill('SIGKILL');
    const killed = await run.done;
    assert.equal(killed.signal, 'SIGKILL', `killed mid-run: ${killed.err}`);
    // Then nothing is lost: every message of the group is in the queue or (once its 2 s of hiding are
    // over, on the runtime's clock) in the DLQ
    await clock.advance(2_000);
    const inQueue = new Set((await everything(LEDGER, 'queue')).map(eventIdOf));
    const peek = await cli('dlq', 'peek', LEDGER, '--max', '100');
    const inDlq = new Set(
      [...peek.out.matchAll(/card\.transaction\.authorized (kill-\d+)/g)].map((m) => m[1]),
    );
    for (let i = 0; i < 12; i++)
      assert.ok(inQueue.has(`kill-${i}`) || inDlq.has(`kill-${i}`), `kill-${i} is somewhere`);
    assert.ok(inQueue.size >= 2 && inQueue.size < 12, `${inQueue.size} moved before the kill`);
    // When the journal is resumed
    const [journal] = readdirSync(JOURNALS);
    assert.ok(journal);
    const resumed = await cli('dlq', 'resume', join(JOURNALS, journal), '--rate', '50');
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.out, /Moved 12 of 12 message\(s\)/);
    // Then all twelve are in the queue (a copy sent twice at the kill is the worker's dedup to absorb),
    // and the other group is untouched in the DLQ
    const moved = await everything(LEDGER, 'queue');
    const ids = new Set([...inQueue, ...moved.map(eventIdOf)]);
    assert.deepEqual([...ids].sort(), Array.from({ length: 12 }, (_, i) => `kill-${i}`).sort());
    assert.ok(moved.length + inQueue.size <= 13, 'at most the one copy in flight at the kill is doubled');
    assert.deepEqual(await h.depth(LEDGER, 'dlq'), { visible: 2, inFlight: 0 });
  });

  it('redrives a whole DLQ with a message move task and reports its result', async () => {
    await deadLetters(NOTIFY, 3, () => 'push service down', 'push');
    const run = await cli('dlq', 'redrive', NOTIFY);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /Task .+: COMPLETED, 3 moved\./);
    assert.deepEqual(await h.depth(NOTIFY, 'dlq'), { visible: 0, inFlight: 0 });
    assert.deepEqual(await h.depth(NOTIFY, 'queue'), { visible: 3, inFlight: 0 });
  });

  it('redrives only the messages a filter matches', async () => {
    const run = await cli('dlq', 'redrive', LEDGER, '--filter', 'closed-1', '--yes');
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /Moved 1 of 1 message\(s\)/);
    assert.deepEqual(await h.depth(LEDGER, 'dlq'), { visible: 1, inFlight: 0 });
  });

  it('edits and retries: an invalid payload is refused field by field, a valid one is sent', async () => {
    await deadLetters(RECEIPT, 1, () => 'receipt store refused', 'edit');
    const peek = await cli('dlq', 'peek', RECEIPT);
    const messageId = /^(\S+) {2}card\.transaction\.authorized edit-0$/m.exec(peek.out)?.[1];
    assert.ok(messageId, peek.out);
    const bad = join(cwd, 'bad.json');
    const good = join(cwd, 'good.json');
    writeFileSync(bad, JSON.stringify({ ...authorizedPayload('edit-tx'), amount: 'lots', currency: 'euro' }));
    writeFileSync(good, JSON.stringify(authorizedPayload('edit-tx', 9000)));
    const refused = await cli('dlq', 'edit', RECEIPT, messageId, '--payload', `@${bad}`);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /\/amount must be integer/);
    assert.match(refused.err, /\/currency must match pattern/);
    assert.match(refused.err, /Nothing was sent/);
    assert.deepEqual(await h.depth(RECEIPT, 'queue'), { visible: 0, inFlight: 0 });
    const sent = await cli('dlq', 'edit', RECEIPT, messageId, '--payload', `@${good}`);
    assert.equal(sent.code, 0, sent.err);
    assert.match(
      sent.out,
      /Sent the edited copy \S+ of \S+ to the queue of ReceiptService\/RequestReceipt \(RerunId edit-[0-9a-f]+\)/,
    );
    const [copy] = await everything(RECEIPT, 'queue');
    assert.equal(
      (JSON.parse(copy?.Body ?? '{}') as { event: { detail: { payload: { amount: number } } } }).event.detail
        .payload.amount,
      9000,
    );
    assert.deepEqual(await h.depth(RECEIPT, 'dlq'), { visible: 0, inFlight: 0 });
  });

  it('purges only when confirmed, and says how many messages went', async () => {
    const unconfirmed = await cli('dlq', 'purge', LEDGER);
    assert.equal(unconfirmed.code, 1);
    assert.match(unconfirmed.err, /confirm with --yes/);
    assert.deepEqual(await h.depth(LEDGER, 'dlq'), { visible: 1, inFlight: 0 });
    const purged = await cli('dlq', 'purge', LEDGER, '--yes');
    assert.equal(purged.code, 0, purged.err);
    assert.match(
      purged.out,
      /Purged cardflow-dev-ledger-service-record-transaction-dlq: 1 message\(s\) deleted\./,
    );
  });

  it('lists the audit trail of all of it', async () => {
    const run = await cli('audit', '--json');
    assert.equal(run.code, 0, run.err);
    const entries = JSON.parse(run.out) as Array<{
      who: string;
      action: string;
      count: number;
      outcome: string;
    }>;
    assert.deepEqual(
      entries.map((e) => `${e.action} ${e.count} ${e.outcome}`),
      ['purge 1 ok', 'edit 1 ok', 'redrive-set 1 ok', 'redrive 3 ok', 'redrive-set 12 ok'],
    );
    assert.ok(entries.every((e) => e.who === 'test:cli'));
    const text = await cli('audit');
    assert.match(
      text.out,
      /test:cli {2}purge {7}LedgerService\/RecordTransaction {2}cardflow-dev-ledger-service-record-transaction-dlq: 1 message\(s\), ok/,
    );
  });
});
