/**
 * `npm ci --omit=dev && npm start` works: every package that the CLI, the CDK app, the local runtime
 * or the bundled functions load at run time is a dependency, not a devDependency. Scans the imports
 * of bin/, lib/ and functions/ (type-only imports are erased and do not count).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Statements that load a module at run time: `import … from 'x'`, `export … from 'x'`, `import('x')`, `require('x')`. */
const LOADS = [
  /(?:^|\n)\s*(import|export)\s+(?!type\b)[^;]*?\bfrom\s+['"]([^'"]+)['"]/g,
  /(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`), or undefined for relative, `#` and built-in ones. */
export function packageOf(specifier: string): string | undefined {
  if (/^[./#]/.test(specifier) || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '');
  return builtinModules.includes(name) ? undefined : name;
}

function loadedPackages(text: string): string[] {
  const found: string[] = [];
  for (const re of LOADS) {
    for (const m of text.matchAll(re)) {
      const spec = m[m.length - 1];
      const name = spec === undefined ? undefined : packageOf(spec);
      if (name) found.push(name);
    }
  }
  return found;
}

describe('run-time packages are dependencies', () => {
  it('reads multi-line imports and skips type-only ones', () => {
    const text =
      "import {\n  a,\n  b,\n} from '@aws-sdk/client-sqs';\nimport type { X } from 'aws-lambda';\nconst d = require('dynalite');\n";
    assert.deepEqual(loadedPackages(text).sort(), ['@aws-sdk/client-sqs', 'dynalite']);
    assert.equal(packageOf('aws-cdk-lib/aws-sqs'), 'aws-cdk-lib');
    assert.equal(packageOf('node:fs'), undefined);
    assert.equal(packageOf('#commons/worker.ts'), undefined);
  });

  it('finds every package bin/, lib/ and functions/ load among the dependencies', () => {
    const missing = new Set<string>();
    let files = 0;
    for (const dir of ['bin', 'lib', 'functions']) {
      for (const file of sources(join(root, dir))) {
        files += 1;
        for (const name of loadedPackages(readFileSync(file, 'utf8'))) {
          if (!(name in pkg.dependencies)) missing.add(`${name} (${relative(root, file)})`);
        }
      }
    }
    assert.ok(files > 50, `expected the project's sources, read ${files}`);
    assert.deepEqual([...missing], [], 'move these to "dependencies" in package.json (npm start loads them)');
  });
});
