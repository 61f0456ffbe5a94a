/**
 * fdatasync on a thread of its own. Node runs `fs.fdatasync` on libuv's thread pool (4 threads),
 * which the local DynamoDB's LevelDB reads and writes share: a disk flush of 5-20 ms taking one or
 * two of those threads made DynamoDB requests queue behind it, and such stalls set the tail of
 * publish -> handled latency. The journals' flushes run here instead, one at a time (they go to one
 * disk, and each journal has at most one in flight: its group commit gathers what comes meanwhile).
 *
 * If the thread cannot start or dies, flushes go back to `fs.fdatasync`, and a flush that was in
 * flight on it reports an error (its records may not be on disk; the journal says so to its callers).
 */
import { fdatasync } from 'node:fs';
import { Worker } from 'node:worker_threads';

type Callback = (error: NodeJS.ErrnoException | null) => void;

/** The thread's code: plain JavaScript, so it needs no TypeScript loader. */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { fdatasyncSync } = require('node:fs');
parentPort.on('message', ({ id, fd }) => {
  try {
    fdatasyncSync(fd);
    parentPort.postMessage({ id });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error.message, code: error.code } });
  }
});
`;

interface Reply {
  readonly id: number;
  readonly error?: { readonly message: string; readonly code?: string };
}

let worker: Worker | undefined;
let failed = false;
let nextId = 0;
const pending = new Map<number, Callback>();

function start(): Worker | undefined {
  if (worker || failed) return worker;
  try {
    worker = new Worker(THREAD_SOURCE, { eval: true });
  } catch {
    failed = true;
    return undefined;
  }
  worker.unref();
  worker.on('message', (reply: Reply) => {
    const callback = pending.get(reply.id);
    pending.delete(reply.id);
    // An idle thread does not keep the process alive; one with a flush in flight does.
    if (pending.size === 0) worker?.unref();
    if (!callback) return;
    if (!reply.error) {
      callback(null);
      return;
    }
    const error: NodeJS.ErrnoException = new Error(reply.error.message);
    if (reply.error.code) error.code = reply.error.code;
    callback(error);
  });
  const stop = (reason: string) => {
    failed = true;
    worker = undefined;
    for (const callback of pending.values())
      callback(
        new Error(`the disk-flush thread stopped (${reason}); the flush may not have reached the disk`),
      );
    pending.clear();
  };
  worker.on('error', (error) => stop(error.message));
  worker.on('exit', (code) => stop(`exit code ${code}`));
  return worker;
}

/** `fs.fdatasync`, run on the flush thread (or the thread pool when that thread is not there). */
export function fdatasyncOffPool(fd: number, callback: Callback): void {
  const thread = start();
  if (!thread) {
    fdatasync(fd, callback);
    return;
  }
  const id = nextId++;
  if (pending.size === 0) thread.ref();
  pending.set(id, callback);
  thread.postMessage({ id, fd });
}
