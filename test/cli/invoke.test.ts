/**
 * `event-router invoke` runs one RPC's worker once on a payload and prints outcome, result and logs;
 * `event-router dev --inspect` starts the functions' processes with the inspector. Both on the small
 * project of test/support/dev-session.ts (dev synthesizes it; invoke then uses that cdk.out).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DevSession, startDevSession } from '../support/dev-session.ts';

const CLI = join(import.meta.dirname ?? '.', '..', '..', 'bin', 'event-router.js');

function invoke(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'invoke', ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

describe('invoke and dev --inspect', { timeout: 600_000 }, () => {
  let s: DevSession;
  before(async () => {
    s = await startDevSession(['--no-typecheck', '--inspect']);
  });
  after(async () => {
    await s?.close();
  });

  it('dev --inspect: each function process listens for a debugger on the loopback address', async () => {
    const from = s.lines.length;
    await s.publish('inspect-me');
    await s.waitFor((l) => l.includes('"marker":"v1"'), from);
    const line = await s.waitFor((l) => /Debugger listening on ws:\/\/127\.0\.0\.1:\d+\//.test(l));
    assert.match(line, /echo-say/);
  });

  it('invoke: runs the worker once and prints the outcome, the stored result and the log lines', async () => {
    const ok = await invoke(
      s.dir,
      'Echo/Say',
      '--no-synth',
      '--event',
      JSON.stringify({ receiptId: 'inv-1', transactionId: 'tx', objectKey: 'k' }),
    );
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /✓ Echo\/Say ← receipt\.uploaded /);
    assert.match(ok.out, /outcome {3}ok \(record COMPLETED\)/);
    assert.match(ok.out, /result {4}\{"marker":"v1"\}/);
    assert.match(ok.out, /"receipt":"inv-1"/);

    // A payload that breaks the schema is dead-lettered once, with the reason, and exits 1
    const bad = await invoke(s.dir, 'Echo/Say', '--no-synth', '--event', '{"receiptId": 1}');
    assert.equal(bad.code, 1, bad.out);
    assert.match(bad.out, /outcome {3}dead-lettered/);
    assert.match(bad.out, /SchemaViolation/);
  });

  it('invoke: an unknown RPC is refused with the known ones', async () => {
    const r = await invoke(s.dir, 'Echo/Nope', '--no-synth', '--event', '{}');
    assert.equal(r.code, 2);
    assert.match(r.out, /No RPC "Echo\/Nope" in event-router\.yaml\. Known: Echo\/Say/);
  });
});
