/**
 * `event-router dev --watch` as a developer uses it, on a small project: a handler edit is live after
 * one reload that rebuilds its bundle only (no synthesis, the bundle byte for byte what synth writes),
 * a type error is reported with file:line:col without holding the reload, a handler not made by
 * defineRpc is refused with its file:line:col (the running version stays). A router file change (a
 * full synthesis) is followed in test/dashboard/devloop.test.ts, through the dashboard.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSpec } from '../../lib/config/load.ts';
import { prebundleWorkers } from '../../lib/constructs/prebundle.ts';
import { planRouter } from '../../lib/plan/plan.ts';
import { type DevSession, echoHandler, startDevSession } from '../support/dev-session.ts';

describe('dev --watch reloads', { timeout: 600_000 }, () => {
  let s: DevSession;

  before(async () => {
    s = await startDevSession();
  });
  after(async () => {
    await s?.close();
  });

  it('runs an edited handler after one reload, without synthesizing again', async () => {
    // Given the first version handled a delivery
    let from = s.lines.length;
    await s.publish('r-1');
    await s.waitFor((l) => l.includes('"marker":"v1"'), from);
    const synthesized = s.lines.filter((l) => l.startsWith('Synthesizing')).length;

    // When the handler is saved with a change
    from = s.lines.length;
    writeFileSync(s.handlerFile, echoHandler('v2'));
    const reloaded = await s.waitFor((l) => l.startsWith('Reloaded'), from);

    // Then only its bundle was rebuilt, and the next delivery runs the new code
    assert.match(reloaded, /^Reloaded Echo\/Say in \d+ ms \(rebuilt bundles only/);
    from = s.lines.length;
    await s.publish('r-2');
    await s.waitFor((l) => l.includes('"marker":"v2"'), from);
    assert.equal(s.lines.filter((l) => l.startsWith('Synthesizing')).length, synthesized, s.lines.join('\n'));

    // And the rebuilt bundle is what synth's prebundler writes for the same sources
    const spec = loadSpec(s.routerFile, { checkHandlers: false }).spec;
    assert.ok(spec);
    const plan = planRouter(spec);
    const fresh = mkdtempSync(join(s.dir, 'fresh-'));
    try {
      const built = await prebundleWorkers(plan, { outDir: join(fresh, '.bundles') });
      const freshDir = built.dirs.get('Echo/Say') ?? '';
      const devDir = join(s.dir, 'cdk.out', '.bundles', relative(join(fresh, '.bundles'), freshDir));
      assert.equal(
        readFileSync(join(devDir, 'index.mjs'), 'utf8'),
        readFileSync(join(freshDir, 'index.mjs'), 'utf8'),
      );
      assert.match(readFileSync(join(devDir, 'index.mjs'), 'utf8'), /"marker":"v2"|marker:"v2"/);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('reports a type error in the edited handler with file:line:col, after reloading it', async () => {
    // When the handler reads a field the event does not have
    const from = s.lines.length;
    writeFileSync(s.handlerFile, echoHandler('v3', 'receiptNme'));

    // Then the reload does not wait for the type check, which then names the file, line and column
    await s.waitFor((l) => l.startsWith('Reloaded Echo/Say'), from);
    const error = await s.waitFor((l) => /functions\/rpcs\/echo\/say\.ts:\d+:\d+ error TS\d+/.test(l), from);
    assert.match(error, /say\.ts:4:\d+ error TS2339: Property 'receiptNme' does not exist/);
    const reloadedAt = s.lines.findIndex((l, i) => i >= from && l.startsWith('Reloaded Echo/Say'));
    assert.ok(reloadedAt < s.lines.indexOf(error), 'the reload came before the type check finished');

    // And fixing it is reported too
    const fixed = s.lines.length;
    writeFileSync(s.handlerFile, echoHandler('v4'));
    await s.waitFor((l) => l.startsWith('Type check: no errors'), fixed);
  });

  it('refuses a handler not made by defineRpc, naming its file:line:col, and keeps the running one', async () => {
    // When the handler is saved as a plain function
    const from = s.lines.length;
    writeFileSync(
      s.handlerFile,
      'export const handler = async (payload: unknown) => {\n  console.log(JSON.stringify({ marker: "plain" }));\n};\n',
    );

    // Then it is not loaded, with the reason at its place
    await s.waitFor((l) => l.startsWith('Not reloaded'), from);
    const error = await s.waitFor(
      (l) => l.includes('handler-not-defined-with-defineRpc') || l.includes('not made by defineRpc'),
      from,
    );
    assert.match(error, /functions\/rpcs\/echo\/say\.ts:1:\d+: error: The `handler` of RPC Echo\/Say/);
    // And the previous version still handles deliveries
    const marks = s.lines.length;
    await s.publish('r-plain');
    await s.waitFor((l) => l.includes('"marker":"v4"'), marks);
    assert.ok(!s.lines.some((l) => l.includes('"marker":"plain"')));

    // Restored, nothing needs to change
    const restored = s.lines.length;
    writeFileSync(s.handlerFile, echoHandler('v4'));
    await s.waitFor((l) => l.startsWith('Rebuilt in') && l.includes("no function's code changed"), restored);
  });
});
