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
import { type BuildOptions, build, type OutputFile } from 'esbuild';
import type { Plan, RpcPlan } from '../plan/types.ts';
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

/** Name of the shared build's output for the entry at `index` (before `.mjs`). */
function outName(index: number): string {
  return `entry-${index}`;
}

/**
 * The esbuild options of the shared worker build over `entries` (output file `entry-<i>.mjs` for
 * `entries[i]`), written under `outDir`. The dev loop's incremental rebuilds use the same options, so
 * they produce what synth produces.
 */
export function workerBuildOptions(entries: readonly string[], outDir: string) {
  return {
    entryPoints: entries.map((entry, index) => ({ in: entry, out: outName(index) })),
    outdir: join(outDir, SHARED_DIR),
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
  } satisfies BuildOptions;
}

/** One RPC's bundle: where it goes and what it holds. */
export interface StampedBundle {
  /** Directory (under outDir) holding `index.mjs` and `index.mjs.map`; shared by RPCs with the same entry and constants. */
  readonly dir: string;
  readonly code: string;
  readonly map: string;
}

/**
 * The bundle of `rpc` from the shared build's outputs (file name -> text): its entry's code with the
 * RPC's constants written into the banner line, and the source map.
 */
export function stampWorker(
  rpc: RpcPlan,
  entries: readonly string[],
  outputs: ReadonlyMap<string, string>,
  outDir: string,
  shareIdentical = true,
): StampedBundle {
  const index = entries.indexOf(rpc.entry);
  const constants = workerConstants(rpc);
  const key = hashOf([rpc.entry, constants, WORKER_BUNDLE, shareIdentical ? '' : rpc.id]);
  const code = outputs.get(`${outName(index)}.mjs`);
  const map = outputs.get(`${outName(index)}.mjs.map`);
  if (index < 0 || code === undefined || map === undefined) {
    throw new Error(`esbuild produced no output for ${rpc.entry} (worker of ${rpc.id}).`);
  }
  const stamped = code
    // Function replacements: the values may contain `$&`, `$'`... which a string replacement would expand.
    .replace(CONSTANTS_SLOT, () => constantDeclarations(constants))
    .replace(`//# sourceMappingURL=${outName(index)}.mjs.map`, () => '//# sourceMappingURL=index.mjs.map');
  return { dir: join(outDir, key), code: stamped, map };
}

/** Writes a stamped bundle into its directory. */
export function writeStamped(bundle: StampedBundle): void {
  mkdirSync(bundle.dir, { recursive: true });
  writeFileSync(join(bundle.dir, 'index.mjs'), bundle.code);
  writeFileSync(join(bundle.dir, 'index.mjs.map'), bundle.map);
}

/** The distinct entry modules of the plan's RPCs, in plan order (the shared build's entry points). */
export function workerEntries(plan: Plan): string[] {
  return [...new Set(plan.rpcs.map((rpc) => rpc.entry))];
}

/** Output file name -> text, from an esbuild result. */
export function outputTexts(outputs: readonly OutputFile[]): Map<string, string> {
  return new Map(outputs.map((file) => [basename(file.path), file.text]));
}

/** Bundles the worker of every RPC in the plan. */
export async function prebundleWorkers(plan: Plan, options: PrebundleOptions): Promise<PrebundleResult> {
  const entries = workerEntries(plan);
  if (entries.length === 0) return { dirs: new Map(), entries: 0, bundles: 0 };
  rmSync(options.outDir, { recursive: true, force: true });

  let outputs: OutputFile[];
  try {
    ({ outputFiles: outputs } = await build(workerBuildOptions(entries, options.outDir)));
  } catch (error) {
    throw new Error(
      `Bundling the workers failed (entries: ${entries.join(', ')}). esbuild said: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const byName = outputTexts(outputs);

  const dirs = new Map<string, string>();
  const written = new Set<string>();
  for (const rpc of plan.rpcs) {
    const bundle = stampWorker(rpc, entries, byName, options.outDir, options.shareIdentical !== false);
    dirs.set(rpc.id, bundle.dir);
    if (written.has(bundle.dir)) continue;
    writeStamped(bundle);
    written.add(bundle.dir);
  }
  return { dirs, entries: entries.length, bundles: written.size };
}
