/**
 * The repository stands alone: a clone has no sibling folders, so no tracked file may reach a path
 * outside the repository root. Checked on every tracked text file:
 * - relative paths written out (`../../x`) that climb above the root from the file's own folder;
 * - `join(…, '..', '..', …)` / `resolve(…)` calls whose `'..'` segments climb above it;
 * - the names of folders that live beside the repository on a developer's machine (`shared/`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { escapingReferences } from './escapes.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TEXT = /\.(ts|mts|js|mjs|cjs|json|ya?ml|md|sh)$|^\.ci\/run$/;

function trackedTextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
  return out
    .split('\0')
    .filter(
      (f) => f !== '' && TEXT.test(f) && f !== 'package-lock.json' && !f.startsWith('test/conformance/'),
    );
}

describe('the repository is self-contained', () => {
  it('finds the checker working on known escapes and non-escapes', () => {
    // The examples are assembled here, so this file itself names no folder outside the repository.
    const sibling = ['sha', 'red'].join('');
    const up3 = Array.from({ length: 3 }, () => "'..'").join(', ');
    assert.deepEqual(
      escapingReferences('test/local/x.test.ts', `join(here, ${up3}, '${sibling}', 'f.json')`),
      [`join(here, ${up3} …) climbs 3 folders from test/local`],
    );
    assert.deepEqual(escapingReferences('test/local/x.test.ts', "join(here, '..', '..', 'README.md')"), []);
    assert.deepEqual(escapingReferences('README.md', `see ../${sibling}/DESIGN.md`), [
      `"../${sibling}/DESIGN.md" climbs 1 folder from the root`,
    ]);
    assert.deepEqual(escapingReferences('lib/a/b.ts', "import x from '../../functions/y.ts'"), []);
  });

  it('has no tracked file that reads a path outside the repository', () => {
    const problems: string[] = [];
    const files = trackedTextFiles();
    assert.ok(files.length > 100, `expected the project's files, got ${files.length}`);
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const p of escapingReferences(file, text)) problems.push(`${file}: ${p}`);
    }
    assert.deepEqual(problems, [], 'paths outside the repository (copy what you need into it instead)');
  });

  it('keeps the checker itself inside the repository', () => {
    assert.equal(relative(root, dirname(fileURLToPath(import.meta.url))).split(sep)[0], 'test');
  });
});
