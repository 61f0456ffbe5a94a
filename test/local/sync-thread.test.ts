/** The journals' disk flushes run on their own thread and report the disk's errors as fs.fdatasync does. */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fdatasyncOffPool } from '../../lib/local/store/sync-thread.ts';

const flush = (fd: number) =>
  new Promise<NodeJS.ErrnoException | null>((resolve) => fdatasyncOffPool(fd, resolve));

describe('fdatasync off the thread pool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'er-sync-thread-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('flushes a written file, several flushes in flight at once', async () => {
    const fds = [0, 1, 2].map((i) => openSync(join(dir, `f${i}`), 'a'));
    for (const fd of fds) writeSync(fd, 'line\n');
    const results = await Promise.all(fds.map(flush));
    assert.deepEqual(results, [null, null, null]);
    for (const fd of fds) closeSync(fd);
  });

  it('reports a failed flush with its error code, and keeps serving later flushes', async () => {
    const fd = openSync(join(dir, 'closed'), 'a');
    closeSync(fd);
    const error = await flush(fd);
    assert.equal(error?.code, 'EBADF');
    const good = openSync(join(dir, 'after'), 'a');
    assert.equal(await flush(good), null);
    closeSync(good);
  });
});
