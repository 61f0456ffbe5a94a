/**
 * Bundles every worker before the app is built, in a single esbuild run.
 *
 * The CDK bundles NodejsFunctions one at a time, starting a new esbuild process per function; at hundreds
 * of RPCs that dominates synthesis. Here all distinct entry modules are bundled by one esbuild build with
 * the house settings (WORKER_BUNDLE), so the modules they share are parsed once. Each RPC's compile-time
 * constants are then written into the first line of its copy (the banner line, which has no source-map
 * mappings, so the map stays exact) as `const NAME = "...";` declarations: code reads them with
 * `typeof NAME !== 'undefined'`, exactly as it reads a value injected with esbuild `define` by the CDK
 * bundling of RouterFunction. Pass the result to buildApp as `prebuilt`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build, type OutputFile } from 'esbuild';
import type { Plan } from '../plan/types.ts';
import { defineStrings, WORKER_BUNDLE } from './router-function.ts';
import { workerConstants } from './rpc-worker.ts';

/** Marker left in the banner line, replaced by each RPC's constants. */
const CONSTANTS_SLOT = '/*er:constants*/';
/** Directory (under outDir) of the shared build; at the same depth as the per-RPC directories, so the source maps' relative paths hold. */
const SHARED_DIR = '_shared';

export interface PrebundleOptions {
  /** Directory the bundles are written to (one sub-directory per distinct bundle); emptied first. */
  readonly outDir: string;
  /**
   * Give RPCs with the same entry and constants one directory. Turn off to have one directory per RPC.
   * @default true
   */
  readonly shareIdentical?: boolean;
}

export interface PrebundleResult {
  /** RPC id -> directory holding `index.mjs` and `index.mjs.map`. */
  readonly dirs: ReadonlyMap<string, string>;
  /** Distinct entry modules bundled. */
  readonly entries: number;
  /** Directories written. */
  readonly bundles: number;
}

/** `const A = "...";` for each constant (values as JS string literals, as given to esbuild `define`). */
function constantDeclarations(constants: Readonly<Record<string, string>>): string {
  return Object.entries(defineStrings(constants))
    .map(([name, literal]) => `const ${name}=${literal};`)
    .join('');
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 20);
}

/** Bundles the worker of every RPC in the plan. */
export async function prebundleWorkers(plan: Plan, options: PrebundleOptions): Promise<PrebundleResult> {
  const entries = [...new Set(plan.rpcs.map((rpc) => rpc.entry))];
  if (entries.length === 0) return { dirs: new Map(), entries: 0, bundles: 0 };
  rmSync(options.outDir, { recursive: true, force: true });
  const sharedDir = join(options.outDir, SHARED_DIR);
  const outName = (index: number) => `entry-${index}`;

  let outputs: OutputFile[];
  try {
    ({ outputFiles: outputs } = await build({
      entryPoints: entries.map((entry, index) => ({ in: entry, out: outName(index) })),
      outdir: sharedDir,
      outExtension: { '.js': '.mjs' },
      write: false,
      bundle: true,
      platform: 'node',
      format: WORKER_BUNDLE.format,
      target: WORKER_BUNDLE.target,
      mainFields: [...WORKER_BUNDLE.mainFields],
      banner: { js: `${WORKER_BUNDLE.banner}${CONSTANTS_SLOT}` },
      external: [...WORKER_BUNDLE.external],
      minify: WORKER_BUNDLE.minify,
      sourcemap: WORKER_BUNDLE.sourceMap,
      sourcesContent: WORKER_BUNDLE.sourcesContent,
      logLevel: 'silent',
    }));
  } catch (error) {
    throw new Error(
      `Bundling the workers failed (entries: ${entries.join(', ')}). esbuild said: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const byName = new Map(outputs.map((file) => [basename(file.path), file.text]));

  const dirs = new Map<string, string>();
  const written = new Set<string>();
  for (const rpc of plan.rpcs) {
    const index = entries.indexOf(rpc.entry);
    const constants = workerConstants(rpc);
    const key = hashOf([rpc.entry, constants, WORKER_BUNDLE, options.shareIdentical === false ? rpc.id : '']);
    const dir = join(options.outDir, key);
    dirs.set(rpc.id, dir);
    if (written.has(dir)) continue;
    const code = byName.get(`${outName(index)}.mjs`);
    const map = byName.get(`${outName(index)}.mjs.map`);
    if (code === undefined || map === undefined) {
      throw new Error(`esbuild produced no output for ${rpc.entry} (worker of ${rpc.id}).`);
    }
    const stamped = code
      // Function replacements: the values may contain `$&`, `$'`... which a string replacement would expand.
      .replace(CONSTANTS_SLOT, () => constantDeclarations(constants))
      .replace(`//# sourceMappingURL=${outName(index)}.mjs.map`, () => '//# sourceMappingURL=index.mjs.map');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.mjs'), stamped);
    writeFileSync(join(dir, 'index.mjs.map'), map);
    written.add(dir);
  }
  return { dirs, entries: entries.length, bundles: written.size };
}
