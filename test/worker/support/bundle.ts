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

/**
 * Bundles a worker into `<assetDir>/index.mjs` as an asset of a hand-written cloud assembly: an inline
 * module (`contents`, resolved from the project root, so it can import `functions/...`) or an entry
 * file relative to the project root. `@aws-sdk/*` stays external, as the Lambda runtime ships it.
 */
export async function bundleAsset(
  assetDir: string,
  source: { readonly contents: string; readonly sourcefile: string } | { readonly entry: string },
): Promise<void> {
  mkdirSync(assetDir, { recursive: true });
  await build({
    ...('entry' in source
      ? { entryPoints: [join(ROOT, source.entry)] }
      : {
          stdin: { contents: source.contents, resolveDir: ROOT, loader: 'ts', sourcefile: source.sourcefile },
        }),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external: ['@aws-sdk/*'],
    outfile: join(assetDir, 'index.mjs'),
    logLevel: 'silent',
  });
}
