/**
 * A handler that throws, run by `event-router dev` as a developer runs it: the stack of each failed
 * attempt names the handler's TypeScript (`functions/rpcs/echo/say.ts:<line>:<col>`, through the
 * bundle's source map) in the dev terminal under the failed and the dead-lettered line, in the
 * delivery record (`status --json`), in the DLQ message's `ErrorStack` attribute (`dlq peek`) and in
 * the dashboard's delivery view.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type DevSession,
  EVENT,
  RPC_MODULE_PATH,
  routerYaml,
  startDevSession,
} from '../support/dev-session.ts';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'event-router.js');

/** The handler: line 5 reads a property of undefined, in a helper called from the handler (line 9). */
const THROWING = `import { defineRpc } from ${JSON.stringify(RPC_MODULE_PATH)};

function shout(text: string | undefined): string {
  const value = { text }.text as string;
  return value.toUpperCase();
}

export const handler = defineRpc(${JSON.stringify(EVENT)}, async (payload) => {
  return { loud: shout(payload.receiptId === 'boom' ? undefined : payload.receiptId) };
});
`;

/** `functions/rpcs/echo/say.ts:<line>:<col>` for `line`. */
const at = (line: number) => new RegExp(`functions/rpcs/echo/say\\.ts:${line}:\\d+`);

function cli(
  s: DevSession,
  args: readonly string[],
): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, [CLI, ...args, '--endpoint', s.url, '--file', s.routerFile], {
    cwd: s.dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('stack traces of a throwing handler under dev', { timeout: 600_000 }, () => {
  let s: DevSession;
  let eventId: string;

  before(async () => {
    s = await startDevSession(['--no-typecheck', '--retry-delay', '1'], {
      handler: THROWING,
      router: routerYaml(false, '        maxReceiveCount: 2\n'),
    });
    const from = s.lines.length;
    eventId = await s.publish('boom');
    const deadLine = (l: string) => l.includes('☠') && l.includes(eventId.slice(0, 8));
    await s.waitFor(deadLine, from);
    // The stack lines follow the dead-lettered line (the terminal writes them with it, in one write).
    await s.waitFor((l) => /^\s{4}at /.test(l) && at(9).test(l), s.lines.findIndex(deadLine) + 1);
  });
  after(async () => {
    await s?.close();
  });

  it('prints the stack with the TypeScript file:line under the failed and the dead-lettered line', () => {
    const index = (match: (l: string) => boolean) => s.lines.findIndex(match);
    const failed = index(
      (l) => l.includes(eventId.slice(0, 8)) && l.includes('✗') && l.includes('TypeError'),
    );
    assert.ok(failed >= 0, `a failed line:\n${s.lines.join('\n')}`);
    assert.match(s.lines[failed + 1] ?? '', at(5), 'the first frame under the failed line is the throw');
    assert.match(s.lines[failed + 2] ?? '', at(9), 'then its caller, the handler');
    const dead = index((l) => l.includes(eventId.slice(0, 8)) && l.includes('☠'));
    assert.match(s.lines[dead + 1] ?? '', at(5), s.lines.slice(dead).join('\n'));
    // --verbose (as the session runs): the whole bounded stack, with no node_modules or node: frames
    const stack: string[] = [];
    for (let i = dead + 1; /^\s{4}at /.test(s.lines[i] ?? ''); i++) stack.push(s.lines[i] ?? '');
    assert.ok(stack.length >= 2 && stack.length <= 10, stack.join('\n'));
    assert.ok(!stack.some((f) => f.includes('node_modules') || f.includes('(node:')), stack.join('\n'));
  });

  it('records the stack with the delivery: status --json and status', () => {
    const json = cli(s, ['status', eventId, '--json']);
    const status = JSON.parse(json.stdout) as {
      rpcs: Array<{ rpc: string; status: string; lastError?: { name: string; stack?: string } }>;
    };
    const say = status.rpcs.find((r) => r.rpc === 'Echo/Say');
    assert.equal(say?.status, 'DEAD', json.stdout);
    assert.equal(say?.lastError?.name, 'TypeError');
    assert.match(say?.lastError?.stack ?? '', at(5));
    assert.match(say?.lastError?.stack ?? '', at(9));
    assert.doesNotMatch(say?.lastError?.stack ?? '', new RegExp(s.dir), 'paths are relative to the project');

    const text = cli(s, ['status', eventId]).stdout;
    assert.match(text, /DEAD.*TypeError/);
    assert.match(text, /\n\s+at .*functions\/rpcs\/echo\/say\.ts:5:\d+/);
  });

  it('sends the stack with the dead letter: dlq peek shows ErrorStack', () => {
    const peek = cli(s, ['dlq', 'peek', 'Echo/Say']);
    assert.equal(peek.status, 0, peek.stderr);
    assert.match(peek.stdout, /ErrorStack:\n\s+at .*functions\/rpcs\/echo\/say\.ts:5:\d+/);
  });

  it('shows the stack in the dashboard delivery view', async () => {
    const page = await (await fetch(`${s.url}/_dashboard/delivery?eventId=${eventId}`)).text();
    const pre = /<pre class="stack" data-field="stack">([^<]*)<\/pre>/.exec(page)?.[1] ?? '';
    assert.match(pre, at(5));
  });
});
