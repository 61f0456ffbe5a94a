/**
 * Keeps `cdk.out` current for the dev server: decides whether it is older than its inputs (the
 * router file, functions/, common/, lib/ and bin/) and re-synthesizes with `event-router synth` in a child
 * process, so a failing synth never takes the running server down.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(ROOT, 'bin', 'event-router.js');

/** Paths whose changes make a new synth necessary (the local runtime itself is not among them). */
export function synthInputs(routerFile: string): string[] {
  return [
    routerFile,
    join(ROOT, 'functions'),
    join(ROOT, 'common'),
    join(ROOT, 'lib'),
    join(ROOT, 'bin'),
    join(ROOT, 'package-lock.json'),
  ];
}

function newest(path: string, skip: (p: string) => boolean): number {
  if (!existsSync(path) || skip(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    max = Math.max(max, newest(join(path, name), skip));
  }
  return max;
}

/** Whether `cdkOut` is missing or older than any input. */
export function isStale(cdkOut: string, routerFile: string): boolean {
  const manifest = join(cdkOut, 'manifest.json');
  if (!existsSync(manifest)) return true;
  const built = statSync(manifest).mtimeMs;
  const local = join(ROOT, 'lib', 'local');
  const cli = join(ROOT, 'lib', 'cli');
  const skip = (p: string) => p.startsWith(local) || p.startsWith(cli);
  return synthInputs(routerFile).some((input) => newest(input, skip) > built);
}

/**
 * Runs `event-router synth <routerFile> --out <cdkOut> --quiet`; resolves with its exit code.
 * With `echo: false` its output is kept and printed only if it fails.
 */
export function synthesize(
  routerFile: string,
  cdkOut: string,
  options: { echo?: boolean } = {},
): Promise<number> {
  const echo = options.echo ?? true;
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, 'synth', routerFile, '--out', cdkOut, '--quiet'], {
      stdio: ['ignore', echo ? 'inherit' : 'pipe', echo ? 'inherit' : 'pipe'],
    });
    const output: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => output.push(c));
    child.stderr?.on('data', (c: Buffer) => output.push(c));
    child.on('exit', (code) => {
      if (code !== 0 && !echo) process.stderr.write(Buffer.concat(output));
      done(code ?? 1);
    });
    child.on('error', () => done(1));
  });
}
