#!/usr/bin/env node
// Runs every test file under test/ (or the paths given) with Node's test runner and tsx.
// Node 20's runner does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** test/support/example-assembly.ts: the example app synthesized once for the files that run it. */
const EXAMPLE_ASSEMBLY = join(ROOT, 'test', 'support', 'example-assembly.ts');
const EXAMPLE_ASSEMBLY_ENV = 'ER_TEST_EXAMPLE_ASSEMBLY';
/** How a test file asks for the shared example assembly (directly, or through test/e2e/app.ts). */
const USES_EXAMPLE = /\b(exampleAssembly|startExampleApp)\(/;

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => collect(join(path, name)));
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['test']).flatMap(collect);
if (files.length === 0) {
  console.error('No test files found (looked for *.test.ts).');
  process.exit(1);
}

// The test files run in parallel processes: synthesize the example app once, before they start, into
// a cache folder keyed by its sources (a rerun of an unchanged tree reuses it), and pass them its path.
const env = { ...process.env };
const users = files.filter((file) => USES_EXAMPLE.test(readFileSync(file, 'utf8')));
if (users.length > 0 && !env[EXAMPLE_ASSEMBLY_ENV]) {
  const started = Date.now();
  const synth = spawnSync(process.execPath, ['--import', 'tsx', EXAMPLE_ASSEMBLY], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (synth.status !== 0) {
    console.error('Could not synthesize the example app (event-router.yaml) for the tests; see above.');
    process.exit(1);
  }
  env[EXAMPLE_ASSEMBLY_ENV] = synth.stdout.trim();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `Example app assembly for ${users.length} test files: ${env[EXAMPLE_ASSEMBLY_ENV]} (${seconds} s)`,
  );
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
