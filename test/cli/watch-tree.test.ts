/**
 * `dev --watch` sees every save, also when a file is saved by writing a new file and renaming it over
 * the old one (editors, `sed -i`, `git checkout`), again and again, and in directories made later.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { watchTree } from '../../lib/cli/watch-tree.ts';

/** Resolves once `seen` holds a path ending in `suffix` (the test's timeout bounds the wait). */
async function changed(seen: string[], suffix: string, action: () => void): Promise<void> {
  seen.length = 0;
  action();
  while (!seen.some((p) => p.endsWith(suffix))) await new Promise((r) => setTimeout(r, 20));
}

function replaceByRename(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

describe('watchTree', { timeout: 30_000 }, () => {
  let dir: string;
  let stop: () => void;
  const seen: string[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'er-watch-'));
    mkdirSync(join(dir, 'functions', 'rpcs'), { recursive: true });
    writeFileSync(join(dir, 'functions', 'rpcs', 'a.ts'), 'a');
    writeFileSync(join(dir, 'router.yaml'), 'x');
    writeFileSync(join(dir, 'other.txt'), 'x');
    stop = watchTree({ files: [join(dir, 'router.yaml')], trees: [join(dir, 'functions')] }, (p) =>
      seen.push(p),
    );
  });
  after(() => {
    stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees a handler replaced by rename, every time', async () => {
    const file = join(dir, 'functions', 'rpcs', 'a.ts');
    for (const text of ['b', 'c', 'd']) await changed(seen, 'a.ts', () => replaceByRename(file, text));
    await changed(seen, 'a.ts', () => writeFileSync(file, 'in place'));
  });

  it('sees the router file replaced by rename, every time, and ignores its neighbours', async () => {
    const file = join(dir, 'router.yaml');
    await changed(seen, 'router.yaml', () => {
      writeFileSync(join(dir, 'other.txt'), 'y');
      replaceByRename(file, 'y');
    });
    assert.ok(!seen.some((p) => p.endsWith('other.txt')), `saw ${seen.join(', ')}`);
    await changed(seen, 'router.yaml', () => replaceByRename(file, 'z'));
  });

  it('watches directories created after it started', async () => {
    const sub = join(dir, 'functions', 'rpcs', 'new-service');
    await changed(seen, 'new-service', () => mkdirSync(sub));
    await changed(seen, 'b.ts', () => writeFileSync(join(sub, 'b.ts'), 'b'));
    await changed(seen, 'b.ts', () => replaceByRename(join(sub, 'b.ts'), 'c'));
  });
});
