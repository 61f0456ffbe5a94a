/**
 * The example app (event-router.yaml) synthesized once, shared by every test file that runs it as it
 * is. `event-router synth` writes it into a cache folder named by a hash of what synthesis reads (the
 * router file, functions/, generated/, lib/, bin/, package.json, package-lock.json, tsconfig.json):
 * a test run after an edit synthesizes again, a rerun of an unchanged tree does not.
 *
 * `node scripts/test.mjs` synthesizes it before the test files start (they run in parallel processes)
 * and hands them its path in `ER_TEST_EXAMPLE_ASSEMBLY`; a test file run on its own finds or makes the
 * same cache entry. Treat the assembly as read-only: a test that needs a changed copy synthesizes its own.
 *
 * Run as a script, it prints the path of the assembly (synthesizing it if needed).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize } from '../../lib/local/assembly/synth.ts';

const ROOT = resolve(import.meta.dirname ?? '.', '..', '..');
export const EXAMPLE_ROUTER = join(ROOT, 'event-router.yaml');
/** The environment variable scripts/test.mjs passes the assembly's path in. */
export const EXAMPLE_ASSEMBLY_ENV = 'ER_TEST_EXAMPLE_ASSEMBLY';
const CACHE = join(tmpdir(), 'event-router-test-assemblies');
/** Cache entries older than this are removed (entries of other checkouts may be in use until then). */
const KEEP_MS = 6 * 60 * 60 * 1000;

const INPUTS = [
  'event-router.yaml',
  'functions',
  'generated',
  'lib',
  'bin',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
];

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => name !== 'node_modules' && !name.startsWith('.'))
    .sort()
    .flatMap((name) => files(join(path, name)));
}

/** A hash of every file synthesis reads (paths and contents). */
export function exampleAssemblyKey(): string {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of files(join(ROOT, input))) {
      hash.update(relative(ROOT, file));
      hash.update('\0');
      hash.update(readFileSync(file));
      hash.update('\0');
    }
  }
  return hash.digest('hex').slice(0, 24);
}

function prune(keep: string): void {
  const now = Date.now();
  for (const name of existsSync(CACHE) ? readdirSync(CACHE) : []) {
    const path = join(CACHE, name);
    if (name === keep) continue;
    try {
      if (now - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another run meanwhile.
    }
  }
}

/**
 * The path of the example app's assembly: the one the test runner made, else the cache entry for the
 * current sources, synthesized now if missing.
 */
export async function exampleAssembly(): Promise<string> {
  const given = process.env[EXAMPLE_ASSEMBLY_ENV];
  if (given && existsSync(join(given, 'manifest.json'))) return given;
  const key = exampleAssemblyKey();
  const dir = join(CACHE, key);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  prune(key);
  // Written beside its final place and renamed there, so no reader ever sees half an assembly.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const code = await synthesize(EXAMPLE_ROUTER, partial, { echo: false });
  if (code !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`event-router synth of ${EXAMPLE_ROUTER} failed (exit code ${code}).`);
  }
  try {
    renameSync(partial, dir);
  } catch (error) {
    // Another run finished the same entry first: use theirs.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(dir, 'manifest.json'))) throw error;
  }
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${await exampleAssembly()}\n`);
}
