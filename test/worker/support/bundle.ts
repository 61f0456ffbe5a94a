/**
 * Bundles a handler module the way the function construct does: esbuild, ESM, minified, Node 22,
 * `@aws-sdk/*` external, the event schemas compiled in through `define`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_DEFINES } from '../../../common/contracts.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The minified bundle of `entry` (relative to the project root). */
export async function bundleHandler(entry: string, schemas: Record<string, unknown>): Promise<string> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: ['@aws-sdk/*'],
    define: { [BUNDLE_DEFINES.eventSchemas]: JSON.stringify(JSON.stringify(schemas)) },
    write: false,
    logLevel: 'silent',
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

/**
 * Writes `code` under node_modules/.cache (ignored by git) so that its `@aws-sdk/*` imports resolve
 * from the project's node_modules, and returns the file's path.
 */
export function writeBundle(name: string, code: string): string {
  const dir = join(ROOT, 'node_modules', '.cache', 'event-router-worker');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, code);
  return file;
}
