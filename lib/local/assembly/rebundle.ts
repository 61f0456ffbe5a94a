/**
 * The dev loop's fast path for handler edits. Keeps an esbuild context over the workers' entry modules
 * with the very options synth's prebundler uses (lib/constructs/prebundle.ts), rebuilds incrementally
 * when a file under functions/ changes, writes each bundle whose content changed where synth writes it
 * (`<cdkOut>/.bundles/<key>/index.mjs`, the RPC's constants on its first line) and says which RPCs now
 * have new code, so the runtime swaps only their processes.
 *
 * It also says when a change needs a full synth instead: the router file, or a file that synthesis
 * itself reads (the functions/ modules that lib/ and bin/ import, e.g. contracts.ts), or a file bundled
 * into a function that is not an RPC worker (the publish API's functions, bundled by the CDK).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildContext, build, context, type Message } from 'esbuild';
import { ENV } from '../../../common/contracts.ts';
import { DiagnosticBag, formatDiagnostics } from '../../config/diagnostics.ts';
import { checkHandlerEvents } from '../../config/handler-events.ts';
import { loadSpec } from '../../config/load.ts';
import type { RouterSpec } from '../../config/types.ts';
import {
  outputTexts,
  stampWorker,
  workerBuildOptions,
  workerEntries,
  writeStamped,
} from '../../constructs/prebundle.ts';
import { planRouter } from '../../plan/plan.ts';
import type { Plan } from '../../plan/types.ts';
import type { FunctionDefinition } from './model.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The modules synthesis runs: whatever they import from functions/ shapes the templates. */
const SYNTH_PROGRAM = [join(ROOT, 'bin', 'app.ts'), join(ROOT, 'lib', 'cli', 'commands', 'synth.ts')];

/** What a set of changed files asks for. */
export type ChangeKind =
  /** Only worker code changed: rebuild the bundles, swap the processes whose code changed. */
  | { readonly kind: 'bundles' }
  /** The templates may change: synthesize and reload everything; `because` names the first such file. */
  | { readonly kind: 'synth'; readonly because: string };

export interface RebundleResult {
  /** RPC id -> the directory of its new bundle, for each RPC whose bundle changed. */
  readonly changed: ReadonlyMap<string, string>;
  /** Milliseconds the rebuild took (esbuild plus writing the changed bundles). */
  readonly ms: number;
}

/** A refused or failed rebuild: the handler checks' or esbuild's errors, each `file:line:col: message`. */
export class RebundleError extends Error {
  override readonly name = 'RebundleError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/** `functions/x.ts:12:7: message` for each esbuild error. */
export function formatEsbuildMessages(messages: readonly Message[], cwd = process.cwd()): string[] {
  return messages.map((m) => {
    const at = m.location
      ? `${relative(cwd, resolve(ROOT, m.location.file))}:${m.location.line}:${m.location.column + 1}: `
      : '';
    return `${at}${m.text}`;
  });
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}${sep}`);
}

/** Absolute paths of the files in `inputs` (esbuild metafile keys, relative to ROOT). */
function absolute(inputs: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const input of inputs) if (!input.includes(':')) out.add(resolve(ROOT, input));
  return out;
}

/** The functions/ (and generated/) files synthesis imports. */
async function synthProgramFiles(): Promise<Set<string>> {
  const result = await build({
    entryPoints: SYNTH_PROGRAM,
    absWorkingDir: ROOT,
    // Nothing is written (write: false); esbuild wants an output directory for several entries.
    outdir: join(ROOT, 'cdk.out', '.synth-program'),
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return absolute(Object.keys(result.metafile.inputs));
}

/**
 * Source files bundled into `fn`, read from its source map. The map's paths are relative to where its
 * bundler wrote it, so each is kept as the path below its leading `../` (a suffix of the real path).
 */
function mappedSources(fn: FunctionDefinition): string[] {
  try {
    const map = JSON.parse(readFileSync(join(fn.codeDir, 'index.mjs.map'), 'utf8')) as { sources?: unknown };
    if (!Array.isArray(map.sources)) return [];
    return map.sources
      .filter((s): s is string => typeof s === 'string' && !s.includes('node_modules'))
      .map((s) => `/${s.replace(/^(\.\.\/)+/, '')}`);
  } catch {
    return [];
  }
}

/** The tree of handler modules of a router file: `functions/` beside it. */
export function functionsDirOf(routerFile: string): string {
  return join(dirname(resolve(routerFile)), 'functions');
}

export interface RebundlerOptions {
  /** The router file synth last synthesized. */
  readonly routerFile: string;
  /** The cloud assembly the runtime runs (its `.bundles` directory receives the rebuilt bundles). */
  readonly cdkOut: string;
  /** The functions the runtime runs now (their bundles are the baseline a rebuild is compared with). */
  readonly functions: readonly FunctionDefinition[];
}

export class WorkerRebundler {
  /** RPC id -> code and map of its running bundle. */
  private readonly running = new Map<string, string>();

  private constructor(
    private readonly ctx: BuildContext<{ write: false }>,
    private readonly spec: RouterSpec,
    private readonly plan: Plan,
    private readonly entries: readonly string[],
    private readonly outDir: string,
    private readonly routerFile: string,
    /** The handlers' tree: `functions/` beside the router file. */
    private readonly functionsDir: string,
    /** Files whose change needs a full synth (absolute paths). */
    private readonly synthFiles: ReadonlySet<string>,
    /** Suffixes of the files bundled into functions that are not RPC workers. */
    private readonly otherFunctionSources: readonly string[],
  ) {}

  /**
   * Prepares the fast path for what `options.functions` runs: plans the router file (as synth did) and
   * opens the esbuild context. Resolves undefined when the router file does not load (a full synth will
   * say why).
   */
  static async create(options: RebundlerOptions): Promise<WorkerRebundler | undefined> {
    const { spec } = loadSpec(options.routerFile, { checkHandlers: false });
    if (!spec) return undefined;
    const plan = planRouter(spec);
    const entries = workerEntries(plan);
    // Resolved as synth resolves it (same working directory), so the source maps' paths are the same.
    const outDir = resolve(options.cdkOut, '.bundles');
    const ctx = await context(workerBuildOptions(entries, outDir));
    const workers = new Set(plan.rpcs.map((rpc) => rpc.id));
    const others = options.functions.filter((fn) => !workers.has(fn.environment[ENV.rpc] ?? ''));
    const rebundler = new WorkerRebundler(
      ctx,
      spec,
      plan,
      entries,
      outDir,
      resolve(options.routerFile),
      functionsDirOf(options.routerFile),
      await synthProgramFiles(),
      others.flatMap(mappedSources),
    );
    for (const fn of options.functions) {
      const rpc = fn.environment[ENV.rpc];
      if (rpc === undefined || !workers.has(rpc)) continue;
      try {
        const dir = fn.codeDir;
        rebundler.running.set(
          rpc,
          `${readFileSync(join(dir, 'index.mjs'), 'utf8')}\0${readFileSync(join(dir, 'index.mjs.map'), 'utf8')}`,
        );
      } catch {
        // No baseline: the first rebuild swaps it.
      }
    }
    return rebundler;
  }

  /** Whether `paths` (changed files) need a full synth or only rebuilt bundles. */
  classify(paths: readonly string[]): ChangeKind {
    for (const given of paths) {
      const path = isAbsolute(given) ? given : resolve(given);
      const because = relative(process.cwd(), path) || path;
      if (path === this.routerFile || !isUnder(path, this.functionsDir)) return { kind: 'synth', because };
      if (this.synthFiles.has(path)) return { kind: 'synth', because };
      if (this.otherFunctionSources.some((suffix) => path.endsWith(suffix)))
        return { kind: 'synth', because };
    }
    return { kind: 'bundles' };
  }

  /**
   * Rebuilds every worker bundle (incrementally: unchanged modules are not parsed again) and writes the
   * ones whose code or source map changed. Throws a {@link RebundleError} with esbuild's errors.
   */
  async rebuild(): Promise<RebundleResult> {
    const started = performance.now();
    // As validate and synth would: a handler not made by defineRpc, or missing a subscribed event, is
    // refused here rather than loaded (it would acknowledge messages without running them).
    const bag = new DiagnosticBag();
    const rpcs = this.spec.services.flatMap((service) => service.rpcs.map((spec) => ({ spec })));
    checkHandlerEvents(bag, this.spec.rootDir, rpcs, this.spec.subscriptions);
    if (bag.errorCount > 0) {
      const errors = bag.sorted().filter((d) => d.severity === 'error');
      throw new RebundleError(formatDiagnostics(errors, { summary: false }).split('\n'));
    }
    let outputs: Map<string, string>;
    try {
      outputs = outputTexts((await this.ctx.rebuild()).outputFiles);
    } catch (error) {
      const errors = (error as { errors?: Message[] }).errors;
      throw new RebundleError(
        errors && errors.length > 0 ? formatEsbuildMessages(errors) : [(error as Error).message],
      );
    }
    const changed = new Map<string, string>();
    const written = new Set<string>();
    for (const rpc of this.plan.rpcs) {
      const bundle = stampWorker(rpc, this.entries, outputs, this.outDir);
      const content = `${bundle.code}\0${bundle.map}`;
      if (this.running.get(rpc.id) === content) continue;
      if (!written.has(bundle.dir)) writeStamped(bundle);
      written.add(bundle.dir);
      this.running.set(rpc.id, content);
      changed.set(rpc.id, bundle.dir);
    }
    return { changed, ms: performance.now() - started };
  }

  /** Releases esbuild's context. */
  async dispose(): Promise<void> {
    await this.ctx.dispose();
  }
}
