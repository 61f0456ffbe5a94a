/** The CLI stops quietly when the reader of its output goes away (`event-router graph | head -1`). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('CLI output into a closed pipe', { timeout: 60_000 }, () => {
  it('exits without a stack trace when stdout is closed before it writes', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'event-router.js'), 'graph'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader is gone before the first line
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    assert.doesNotMatch(stderr, /EPIPE|Unhandled 'error' event/);
    assert.equal(code, 0);
  });
});
