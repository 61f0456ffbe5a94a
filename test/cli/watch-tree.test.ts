/**
 * `dev --watch` sees every save, also when a file is saved by writing a new file and renaming it over
 * the old one (editors, `sed -i`, `git checkout`), again and again, and in directories made later.
 *
 * Each step waits for the change it expects to be reported (a signal, not a polling loop), and fails
 * within seconds, saying what it saw, when it is not: a watcher that went deaf (or could not start,
 * e.g. past the system's inotify limits) is a failure with a reason, not a wait until the suite's timeout.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { watchTree } from '../../lib/cli/watch-tree.ts';

/** How long a reported change may take (inotify reports within milliseconds; the machine is shared). */
const REPORTED_WITHIN_MS = 10_000;

/** What the watcher reported, and the waits for a path it has not reported yet. */
class Changes {
  readonly seen: string[] = [];
  readonly errors: string[] = [];
  private waiting: Array<{ suffix: string; resolve: () => void }> = [];

  report = (path: string): void => {
    this.seen.push(path);
    const done = this.waiting.filter((w) => path.endsWith(w.suffix));
    this.waiting = this.waiting.filter((w) => !path.endsWith(w.suffix));
    for (const w of done) w.resolve();
  };

  failed = (dir: string, error: Error): void => {
    this.errors.push(`${dir}: ${error.message}`);
  };

  /** Forgets what was seen, runs `action`, and resolves once a path ending in `suffix` is reported. */
  async after(suffix: string, action: () => void): Promise<void> {
    this.seen.length = 0;
    let timer: NodeJS.Timeout | undefined;
    const reported = new Promise<void>((resolve, reject) => {
      this.waiting.push({ suffix, resolve });
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `no change of *${suffix} reported within ${REPORTED_WITHIN_MS} ms; saw [${this.seen.join(', ')}]; watch errors [${this.errors.join('; ')}]`,
            ),
          ),
        REPORTED_WITHIN_MS,
      );
    });
    try {
      action();
      await reported;
    } finally {
      clearTimeout(timer);
    }
  }
}

function replaceByRename(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

describe('watchTree', { timeout: 60_000 }, () => {
  let dir: string;
  let stop: () => void;
  const changes = new Changes();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'er-watch-'));
    mkdirSync(join(dir, 'functions', 'rpcs'), { recursive: true });
    writeFileSync(join(dir, 'functions', 'rpcs', 'a.ts'), 'a');
    writeFileSync(join(dir, 'router.yaml'), 'x');
    writeFileSync(join(dir, 'other.txt'), 'x');
    stop = watchTree(
      { files: [join(dir, 'router.yaml')], trees: [join(dir, 'functions')] },
      changes.report,
      changes.failed,
    );
    assert.deepEqual(changes.errors, [], 'every directory is watched');
  });
  after(() => {
    stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees a handler replaced by rename, every time', async () => {
    const file = join(dir, 'functions', 'rpcs', 'a.ts');
    for (const text of ['b', 'c', 'd']) await changes.after('a.ts', () => replaceByRename(file, text));
    await changes.after('a.ts', () => writeFileSync(file, 'in place'));
  });

  it('sees the router file replaced by rename, every time, and ignores its neighbours', async () => {
    const file = join(dir, 'router.yaml');
    await changes.after('router.yaml', () => {
      writeFileSync(join(dir, 'other.txt'), 'y');
      replaceByRename(file, 'y');
    });
    assert.ok(!changes.seen.some((p) => p.endsWith('other.txt')), `saw ${changes.seen.join(', ')}`);
    await changes.after('router.yaml', () => replaceByRename(file, 'z'));
  });

  it('watches directories created after it started', async () => {
    const sub = join(dir, 'functions', 'rpcs', 'new-service');
    await changes.after('new-service', () => mkdirSync(sub));
    await changes.after('b.ts', () => writeFileSync(join(sub, 'b.ts'), 'b'));
    await changes.after('b.ts', () => replaceByRename(join(sub, 'b.ts'), 'c'));
    assert.deepEqual(changes.errors, []);
  });
});
