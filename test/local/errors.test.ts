/** What a user sees when the runtime cannot start: readable messages, no stack traces. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { run as dev } from '../../lib/cli/commands/dev.ts';
import { CloudAssemblyError } from '../../lib/local/assembly/template.ts';
import { LocalRuntime } from '../../lib/local/runtime/runtime.ts';
import { FIXTURE_ASSEMBLY, writeStackAssembly } from './helpers.ts';

async function captureErrors(fn: () => Promise<number>): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(' '));
  try {
    return { code: await fn(), text: lines.join('\n') };
  } finally {
    console.error = error;
  }
}

describe('start-up errors', () => {
  it('explains a missing cdk.out', async () => {
    await assert.rejects(
      LocalRuntime.start({ cdkOut: '/nonexistent/cdk.out', port: 0, inMemory: true }),
      (e: Error) => {
        assert.ok(e instanceof CloudAssemblyError);
        assert.match(e.message, /npm run synth/);
        return true;
      },
    );
  });

  it('explains a broken template', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-broken-'));
    try {
      writeStackAssembly(dir, 's', '{ not json');
      await assert.rejects(
        LocalRuntime.start({ cdkOut: dir, port: 0, inMemory: true }),
        /not readable JSON.*synth/s,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which port is taken and how to pick another', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const { code, text } = await captureErrors(() =>
        dev(['--no-synth', '--cdk-out', FIXTURE_ASSEMBLY, '--in-memory', '--port', String(port)]),
      );
      assert.equal(code, 1);
      assert.match(text, new RegExp(`Port ${port} .*already in use.*--port`));
      assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
    } finally {
      blocker.close();
    }
  });

  it('reports resource types it does not run as problems, not crashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-odd-'));
    try {
      writeStackAssembly(dir, 's', {
        Resources: {
          Stream: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 1 } },
          Py: {
            Type: 'AWS::Lambda::Function',
            Properties: { Runtime: 'python3.12', Handler: 'x.h', Code: { ZipFile: 'x' } },
          },
        },
      });
      const runtime = await LocalRuntime.start({ cdkOut: dir, port: 0, inMemory: true });
      try {
        assert.equal(runtime.model.problems.length, 2);
        assert.match(
          runtime.model.problems.join('\n'),
          /AWS::Kinesis::Stream is not run by the local runtime/,
        );
        assert.match(runtime.model.problems.join('\n'), /python3\.12.*cannot run locally/);
      } finally {
        await runtime.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a state directory another runtime is using, and frees it on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-lock-'));
    try {
      const first = await LocalRuntime.start({ cdkOut: FIXTURE_ASSEMBLY, port: 0, stateDir: dir });
      try {
        await assert.rejects(
          LocalRuntime.start({ cdkOut: FIXTURE_ASSEMBLY, port: 0, stateDir: dir }),
          /in use by another .*\(pid \d+\).*--state-dir/s,
        );
      } finally {
        await first.close();
      }
      const second = await LocalRuntime.start({ cdkOut: FIXTURE_ASSEMBLY, port: 0, stateDir: dir });
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
