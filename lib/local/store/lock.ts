/**
 * One runtime per state directory: a `lock` file holding the owner's pid. A lock left by a process
 * that no longer exists (killed with SIGKILL) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Directories locked by this process (its pid alone cannot tell two runtimes in one process apart). */
const held = new Set<string>();

/** Takes the lock of `dir`; throws a readable error when a live process holds it. Returns the release function. */
export function lockStateDir(dir: string): () => void {
  const file = join(dir, 'lock');
  if (held.has(file))
    throw new Error(
      `The state directory ${dir} is in use by another runtime in this process (pid ${process.pid}). Use another --state-dir (or --in-memory).`,
    );
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(file);
      return () => {
        held.delete(file);
        rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner))
        throw new Error(
          `The state directory ${dir} is in use by another event-router dev (pid ${owner}). Stop it, or use another --state-dir (or --in-memory).`,
        );
      rmSync(file, { force: true });
    }
  }
  throw new Error(
    `Could not lock the state directory ${dir}; remove ${file} if no event-router dev is running.`,
  );
}
