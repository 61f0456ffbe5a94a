/**
 * `event-router dev`: synthesizes the app (or reuses an up-to-date cdk.out) and runs it locally on
 * one port: EventBridge, SQS and DynamoDB endpoints, the functions from their bundles, and the REST
 * API routes. Prints what to export and a ready command that publishes an example event.
 */

import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { SQS } from '../../../common/aws-limits.ts';
import { ENV } from '../../../common/contracts.ts';
import { publisherSource } from '../../../common/naming.ts';
import { loadSpec } from '../../config/load.ts';
import type { RouterSpec } from '../../config/types.ts';
import { functionsDirOf, RebundleError, WorkerRebundler } from '../../local/assembly/rebundle.ts';
import { isStale, synthesize } from '../../local/assembly/synth.ts';
import { createDashboard } from '../../local/dashboard/index.ts';
import { exampleFor } from '../../local/runtime/example-event.ts';
import { DEFAULT_PORT, LocalRuntime } from '../../local/runtime/runtime.ts';
import { buildGraph } from '../../plan/graph.ts';
import { parseCommandArgs } from '../args.ts';
import { type BannerExample, type BannerInfo, formatBanner } from '../dev-banner.ts';
import { color } from '../present/color.ts';
import { terminalEvents } from '../present/terminal-log.ts';
import { BackgroundTypecheck, formatTypeProblem, type TypeProblem } from '../typecheck.ts';
import { watchTree } from '../watch-tree.ts';

/** Quiet time after the last change before reloading (editors save in several steps). */
const WATCH_DEBOUNCE_MS = 100;

export const summary =
  'Run the synthesized app locally on one port (EventBridge, SQS, DynamoDB, functions, API)';
export const usage = `event-router dev [path] [options]

  path              the router file (default: ./event-router.yaml)
  --port <n>        port on 127.0.0.1 (default: ${DEFAULT_PORT}; 0 picks a free one)
  --state-dir <d>   where queues and tables are kept (default: .event-router)
  --in-memory       keep nothing on disk
  --cdk-out <d>     the synthesized app (default: cdk.out)
  --no-synth        use cdk.out as it is, even if older than its sources
  --watch           reload on changes: a handler edit rebuilds only the bundles it changes and swaps
                    their processes; the router file (or code synthesis reads) re-synthesizes.
                    Queued and in-flight messages stay. Changed functions are type checked in the
                    background (errors printed as file:line:col; the reload does not wait)
  --no-typecheck    with --watch, skip the background type check
  --inspect         start the functions' processes with the Node.js inspector on a free port each
                    (each prints "Debugger listening on ws://..."; attach with chrome://inspect or
                    your editor). A function paused longer than its timeout is stopped, as on Lambda
  --retry-delay <s> retry failed messages after <s> seconds instead of the queue's visibility timeout
  --verbose         show everything functions print (otherwise their stderr, less the worker's
                    per-record outcome lines the delivery lines already tell)

Environment: ER_FUNCTION_PROCESSES=<n> lets a busy function run in up to n processes (default 1).
A browser at http://127.0.0.1:<port>/ shows the dashboard; GET /_status (the dashboard API's /_dashboard/api/status) answers the router's graph, queue depths and recent deliveries as JSON.`;

interface Options {
  readonly file: string;
  readonly port: number;
  readonly stateDir: string;
  readonly inMemory: boolean;
  readonly cdkOut: string;
  readonly synth: boolean;
  readonly watch: boolean;
  readonly typecheck: boolean;
  readonly inspect: boolean;
  readonly retryDelay: number | undefined;
  readonly verbose: boolean;
}

const OPTIONS = {
  port: { type: 'string' },
  'state-dir': { type: 'string' },
  'in-memory': { type: 'boolean' },
  'cdk-out': { type: 'string' },
  'no-synth': { type: 'boolean' },
  watch: { type: 'boolean' },
  'no-typecheck': { type: 'boolean' },
  inspect: { type: 'boolean' },
  'retry-delay': { type: 'string' },
  verbose: { type: 'boolean' },
} as const;

/** The options of `args`; undefined after printing a malformed option, or a message for a bad value. */
function parse(args: string[]): Options | string | undefined {
  const parsed = parseCommandArgs(args, OPTIONS, usage);
  if (!parsed) return undefined;
  const { values, positionals } = parsed;
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return `--port must be a port number, got "${values.port}".`;
  const retryDelay = values['retry-delay'] === undefined ? undefined : Number(values['retry-delay']);
  if (
    retryDelay !== undefined &&
    (!Number.isInteger(retryDelay) || retryDelay < 0 || retryDelay > SQS.visibilityTimeoutSeconds.max)
  )
    return `--retry-delay must be whole seconds between 0 and ${SQS.visibilityTimeoutSeconds.max}, got "${values['retry-delay']}".`;
  if (positionals.length > 1) return `dev takes one router file, got ${positionals.length}.`;
  return {
    file: positionals[0] ?? 'event-router.yaml',
    port,
    stateDir: values['state-dir'] ?? '.event-router',
    inMemory: values['in-memory'] === true,
    cdkOut: values['cdk-out'] ?? 'cdk.out',
    synth: values['no-synth'] !== true,
    watch: values.watch === true,
    typecheck: values['no-typecheck'] !== true,
    inspect: values.inspect === true,
    retryDelay,
    verbose: values.verbose === true,
  };
}

/** Synthesizes when needed; returns an error message or undefined. */
async function ensureAssembly(o: Options, force = false): Promise<string | undefined> {
  if (!o.synth) return undefined;
  if (!existsSync(o.file))
    return existsSync(o.cdkOut)
      ? undefined
      : `${o.file} not found and there is no ${o.cdkOut}. Run from your project directory or pass the router file: event-router dev path/to/event-router.yaml`;
  if (!force && !isStale(o.cdkOut, o.file)) return undefined;
  console.log(color.dim(`Synthesizing ${o.file} into ${o.cdkOut} ...`));
  const started = Date.now();
  const code = await synthesize(o.file, o.cdkOut, { echo: false });
  if (code !== 0) return 'Synthesis failed (see above). Fix the problem and start again.';
  console.log(color.dim(`Synthesized in ${((Date.now() - started) / 1000).toFixed(1)} s.`));
  return undefined;
}

/** The router spec, for the example event and the dashboard; undefined when it cannot be loaded. */
function readSpec(file: string): RouterSpec | undefined {
  return loadSpec(file, { checkHandlers: false }).spec;
}

/**
 * An example event for the banner: the first event of the router file that an external publisher
 * publishes, with a payload from its schema.
 */
function exampleEvent(spec: RouterSpec | undefined, busName: string): BannerExample | undefined {
  const external = new Set(spec?.publishers.map((p) => p.name));
  const event = spec?.events.find((e) => e.publishers.some((name) => external.has(name)));
  const publisher = event?.publishers.find((name) => external.has(name));
  if (!spec || !event || !publisher) return undefined;
  const detail = {
    metadata: {
      eventId: 'example-0001',
      occurredAt: '2026-01-01T12:00:00.000Z',
      correlationId: 'example-0001',
      publisher,
      schemaVersion: event.schemaVersion,
    },
    payload: exampleFor(event.schema),
  };
  return {
    busName,
    eventName: event.name,
    detail: JSON.stringify(detail),
    payload: detail.payload,
    publisher,
    source: publisherSource(spec.app.name, publisher),
  };
}

/** What the banner shows, read from the running runtime. */
function bannerInfo(
  runtime: LocalRuntime,
  o: Options,
  example: BannerExample | undefined,
  dashboard: boolean,
): BannerInfo {
  const m = runtime.model;
  return {
    url: runtime.url,
    region: m.region,
    dashboard,
    stateDir: o.inMemory ? undefined : resolve(o.stateDir),
    buses: m.buses,
    rules: m.rules.length,
    queues: m.queues.length,
    dlqs: runtime.store.list().filter((q) => runtime.store.sourcesOf(q).length > 0).length,
    functions: m.functions.length,
    polled: m.mappings.length,
    tables: m.tables.map((t) => t.TableName),
    apis: runtime.apiEndpoints(),
    ignored: Object.keys(m.ignored),
    problems: m.problems,
    recovered: runtime.recovered,
    example,
    verbose: o.verbose,
  };
}

/** Prints what a background type check found (and once, that earlier errors are fixed). */
function typecheckReporter(): (errors: readonly TypeProblem[], ms: number) => void {
  let hadErrors = false;
  return (errors, ms) => {
    if (errors.length === 0) {
      if (hadErrors) console.log(color.green(`Type check: no errors in functions/ (${ms} ms).`));
      hadErrors = false;
      return;
    }
    hadErrors = true;
    console.log(
      color.red(`Type check: ${errors.length} error${errors.length === 1 ? '' : 's'} (${ms} ms)`),
      color.dim('(the reload went ahead; fix them before deploying)'),
    );
    for (const error of errors.slice(0, 20)) console.log(`  ${formatTypeProblem(error)}`);
    if (errors.length > 20)
      console.log(color.dim(`  ... and ${errors.length - 20} more (npm run typecheck)`));
  };
}

function startWatching(o: Options, runtime: LocalRuntime, onReloaded: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  let again = false;
  let closed = false;
  const changed = new Set<string>();
  // The fast path needs the router file (to plan the workers as synth does).
  const fast = o.synth && existsSync(o.file);
  let rebundler: WorkerRebundler | undefined;
  const prepare = async () => {
    const previous = rebundler;
    rebundler = undefined;
    await previous?.dispose();
    if (!fast || closed) return;
    try {
      rebundler = await WorkerRebundler.create({
        routerFile: o.file,
        cdkOut: o.cdkOut,
        functions: runtime.model.functions,
      });
    } catch (error) {
      console.log(color.dim(`Handler edits will re-synthesize: ${(error as Error).message}`));
    }
  };
  const ready = prepare();
  const typecheck = o.typecheck
    ? new BackgroundTypecheck({
        workDir: join(o.cdkOut, '.typecheck'),
        functionsDir: functionsDirOf(o.file),
        report: typecheckReporter(),
      })
    : undefined;

  const swapBundles = async (current: WorkerRebundler): Promise<void> => {
    let result: Awaited<ReturnType<WorkerRebundler['rebuild']>>;
    try {
      result = await current.rebuild();
    } catch (error) {
      const problems = error instanceof RebundleError ? error.problems : [(error as Error).message];
      console.log(color.red('Not reloaded:'), color.dim('(still running the previous version)'));
      for (const problem of problems) console.log(`  ${problem}`);
      return;
    }
    const swapped: string[] = [];
    for (const [rpc, dir] of result.changed) {
      for (const fn of runtime.model.functions) {
        if (fn.environment[ENV.rpc] === rpc && runtime.replaceCode(fn.name, dir)) swapped.push(rpc);
      }
    }
    const ms = Math.round(result.ms);
    if (swapped.length === 0) console.log(color.dim(`Rebuilt in ${ms} ms: no function's code changed.`));
    else
      console.log(
        color.green(`Reloaded ${swapped.join(', ')} in ${ms} ms`),
        color.dim('(rebuilt bundles only; queued messages kept)'),
      );
  };

  const fullReload = async (because: string | undefined): Promise<void> => {
    if (because) console.log(color.dim(`${because} changed: synthesizing again.`));
    const problem = await ensureAssembly(o, true);
    if (problem) {
      console.log(color.red(problem), color.dim('(still running the previous version)'));
      return;
    }
    const model = await runtime.reload();
    await prepare();
    onReloaded();
    console.log(
      color.green(
        `Reloaded: ${model.functions.length} functions, ${model.rules.length} rules; queued messages kept.`,
      ),
    );
  };

  const rebuild = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      await ready;
      const paths = [...changed];
      changed.clear();
      const current = rebundler;
      const kind = current ? current.classify(paths) : undefined;
      if (current && kind?.kind === 'bundles') await swapBundles(current);
      else await fullReload(kind?.kind === 'synth' ? kind.because : undefined);
      if (paths.some((p) => p.endsWith('.ts'))) typecheck?.schedule();
    } catch (error) {
      console.log(
        color.red(`Reload failed: ${(error as Error).message}`),
        color.dim('(still running the previous version)'),
      );
    } finally {
      busy = false;
      if (again) {
        again = false;
        void rebuild();
      }
    }
  };
  const onChange = (path: string) => {
    changed.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => void rebuild(), WATCH_DEBOUNCE_MS);
  };
  const functionsDir = functionsDirOf(o.file);
  // The framework's shared code beside the handlers (this repository's own layout) is watched too: a
  // change there re-synthesizes, as synthesis imports it.
  const sharedDir = join(dirname(functionsDir), 'common');
  const trees = existsSync(sharedDir) ? [functionsDir, sharedDir] : [functionsDir];
  const unwatched = new Set<string>();
  const stop = watchTree({ files: [o.file], trees }, onChange, (dir, error) => {
    if (unwatched.has(dir)) return;
    unwatched.add(dir);
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOSPC' || code === 'EMFILE'
        ? ' The system limit of file watchers is reached: raise it (Linux: sysctl fs.inotify.max_user_watches / max_user_instances) or stop other watchers.'
        : '';
    console.log(
      color.yellow(
        `Not watching ${relative(process.cwd(), dir) || '.'}: ${error.message}. Changes there are not reloaded until you restart dev.${hint}`,
      ),
    );
  });
  console.log(
    color.dim(
      `Watching ${o.file} and ${relative(process.cwd(), functionsDir) || '.'}/ for changes${typecheck ? ' (type checked in the background)' : ''}.`,
    ),
  );
  return () => {
    closed = true;
    clearTimeout(timer);
    stop();
    typecheck?.close();
    void ready.then(() => rebundler?.dispose());
  };
}

export async function run(args: string[]): Promise<number> {
  const o = parse(args);
  if (o === undefined) return 2;
  if (typeof o === 'string') {
    console.error(`${o}\n\nUsage: ${usage}`);
    return 2;
  }
  const problem = await ensureAssembly(o);
  if (problem) {
    console.error(problem);
    return 1;
  }
  // The runner starts each function's process with these flags: one inspector per process, each on
  // a port of its own (0: the system picks), on the loopback address only.
  if (o.inspect)
    process.env.ER_FUNCTION_NODE_ARGS = [process.env.ER_FUNCTION_NODE_ARGS, '--inspect=127.0.0.1:0']
      .filter(Boolean)
      .join(' ');
  let runtime: LocalRuntime;
  try {
    runtime = await LocalRuntime.start({
      cdkOut: o.cdkOut,
      port: o.port,
      stateDir: o.stateDir,
      inMemory: o.inMemory,
      ...(o.retryDelay !== undefined ? { retryDelaySeconds: o.retryDelay } : {}),
      events: terminalEvents({ verbose: o.verbose }),
    });
  } catch (error) {
    console.error(`event-router dev could not start: ${(error as Error).message}`);
    return 1;
  }
  const spec = readSpec(o.file);
  /** The router running now: the dashboard's graph and its DLQ operations follow each reload. */
  let running = spec;
  if (spec) runtime.graph = buildGraph(spec);
  const dashboard = spec
    ? createDashboard({
        endpoint: runtime.url,
        region: runtime.model.region,
        spec: () => running,
        graph: () => runtime.graph,
        eventLog: runtime.eventLog,
        facts: () => runtime.facts(),
      })
    : undefined;
  if (dashboard) runtime.mount(dashboard);
  const bus = runtime.model.buses[0] ?? 'default';
  console.log(formatBanner(bannerInfo(runtime, o, exampleEvent(spec, bus), dashboard !== undefined)));
  // After a reload the graph is the one of the router file just synthesized and now running.
  const onReloaded = () => {
    const next = readSpec(o.file);
    if (!next) return;
    running = next;
    runtime.graph = buildGraph(next);
  };
  const stopWatching = o.watch ? startWatching(o, runtime, onReloaded) : () => {};
  return new Promise((done) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      console.log(color.dim('\nStopping ...'));
      stopWatching();
      dashboard?.close();
      runtime.close().then(
        () => done(0),
        () => done(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
