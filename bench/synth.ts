/**
 * `npm run bench:synth`: wall time and resource counts of synthesizing generated routers of 10, 100 and
 * 500 RPCs (10 RPCs per service, 2 subscriptions per RPC, every worker really bundled by esbuild, cdk-nag
 * on), each in a fresh process as `synth` would run. Goal: 500 RPCs in under 60 s on a 2-core machine,
 * time growing no faster than linearly.
 *
 * Every RPC gets its own handler module (generated: it re-exports the real remote-RPC worker), so there
 * are as many distinct entries and bundles as RPCs, as in a router where each RPC has its handler file.
 * `prebundle` is the default bundler (all entries in one esbuild build); the `cdk` row bundles 10 RPCs
 * the CDK's way (one esbuild process per function, one after the other) for comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SIZES = [10, 100, 500] as const;
const RPCS_PER_SERVICE = 10;
const SUBSCRIPTIONS_PER_RPC = 2;

type Bundler = 'prebundle' | 'cdk';

interface Measurement {
  readonly rpcs: number;
  readonly bundler: Bundler;
  readonly stacks: number;
  readonly rules: number;
  readonly resources: number;
  readonly maxPerStack: number;
  readonly bundles: number;
  /** Seconds from process start to modules loaded. */
  readonly loadS: number;
  readonly bundleS: number;
  readonly buildS: number;
  /** app.synth(), cdk-nag included (and the CDK's own bundling for `cdk`). */
  readonly synthS: number;
  /** Wall time of the whole process. */
  readonly totalS: number;
}

const seconds = (ms: number) => Math.round(ms / 10) / 100;

/** Measures one size in this process and prints the measurement as JSON. */
async function measureOne(rpcs: number, bundler: Bundler): Promise<Measurement> {
  const { buildRouter } = await import('../lib/app.ts');
  const { prebundleWorkers } = await import('../lib/constructs/prebundle.ts');
  const { planRouter } = await import('../lib/plan/plan.ts');
  const { generateSpec, PROJECT_ROOT } = await import('../test/support/specs.ts');
  const { DEFAULT_REMOTE_ENTRY } = await import('../lib/plan/rpcs.ts');
  const loaded = performance.now();

  const outdir = mkdtempSync(join(tmpdir(), 'er-bench-synth-'));
  // Handler modules must lie under the project root for the CDK's bundling.
  const handlers = join(PROJECT_ROOT, 'node_modules', '.cache', 'event-router-bench', String(process.pid));
  try {
    mkdirSync(handlers, { recursive: true });
    const handlerFor = (rpcId: string) => {
      const file = join(handlers, `${rpcId.replace('/', '-')}.ts`);
      writeFileSync(
        file,
        `export { handler } from ${JSON.stringify(DEFAULT_REMOTE_ENTRY)};\nexport const rpc = ${JSON.stringify(rpcId)};\n`,
      );
      return file;
    };
    const spec = generateSpec(rpcs / RPCS_PER_SERVICE, RPCS_PER_SERVICE, SUBSCRIPTIONS_PER_RPC, {
      handlerFor,
    });
    const planned = planRouter(spec);
    let bundles = 0;
    let prebuilt: ReadonlyMap<string, string> | undefined;
    if (bundler === 'prebundle') {
      const result = await prebundleWorkers(planned, { outDir: join(outdir, '.bundles') });
      prebuilt = result.dirs;
      bundles = result.bundles;
    }
    const bundled = performance.now();
    const router = buildRouter(spec, {
      outdir,
      planned,
      bundling: 'esbuild',
      ...(prebuilt ? { prebuilt } : {}),
    });
    const built = performance.now();
    const assembly = router.app.synth();
    const synthesized = performance.now();

    const counts = assembly.stacks.map(
      (stack) => Object.keys((stack.template as { Resources?: object }).Resources ?? {}).length,
    );
    if (bundler === 'cdk') bundles = router.plan.rpcs.length;
    return {
      rpcs,
      bundler,
      stacks: assembly.stacks.length,
      rules: router.plan.rules.length,
      resources: counts.reduce((sum, count) => sum + count, 0),
      maxPerStack: Math.max(...counts),
      bundles,
      loadS: seconds(loaded),
      bundleS: seconds(bundled - loaded),
      buildS: seconds(built - bundled),
      synthS: seconds(synthesized - built),
      totalS: seconds(performance.now()),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(handlers, { recursive: true, force: true });
    try {
      rmdirSync(dirname(handlers));
    } catch {
      // another run still uses it
    }
  }
}

function measureInChild(rpcs: number, bundler: Bundler): Measurement {
  const started = performance.now();
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', String(rpcs), bundler],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (child.status !== 0) throw new Error(`synth of ${rpcs} RPCs failed:\n${child.stderr}`);
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  const measurement = JSON.parse(line) as Measurement;
  return { ...measurement, totalS: seconds(performance.now() - started) };
}

function printTable(rows: readonly Measurement[]): void {
  const header = [
    'RPCs',
    'bundler',
    'stacks',
    'rules',
    'resources',
    'max/stack',
    'bundles',
    'load s',
    'bundle s',
    'build s',
    'synth s',
    'total s',
    's/100 RPCs',
  ];
  const body = rows.map((row) => [
    row.rpcs,
    row.bundler,
    row.stacks,
    row.rules,
    row.resources,
    row.maxPerStack,
    row.bundles,
    row.loadS.toFixed(2),
    row.bundleS.toFixed(2),
    row.buildS.toFixed(2),
    row.synthS.toFixed(2),
    row.totalS.toFixed(2),
    ((row.totalS / row.rpcs) * 100).toFixed(2),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...body.map((cells) => String(cells[i]).length)),
  );
  const format = (cells: readonly (string | number)[]) =>
    cells.map((cell, i) => String(cell).padStart(widths[i] ?? 0)).join('  ');
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const cells of body) console.log(format(cells));
}

/** Runs every size in its own process and prints the table. */
export async function run(): Promise<void> {
  console.log(
    `synth of generated routers (${RPCS_PER_SERVICE} RPCs per service, ${SUBSCRIPTIONS_PER_RPC} subscriptions per RPC, real esbuild bundles, cdk-nag on), one fresh process each`,
  );
  const rows: Measurement[] = [];
  for (const size of SIZES) rows.push(measureInChild(size, 'prebundle'));
  rows.push(measureInChild(10, 'cdk'));
  printTable(rows);
  const [small, medium, large] = rows;
  if (small && medium && large) {
    // Linear growth: time grows at most by the factor the router grows (fixed costs make it grow less).
    const growth = (a: Measurement, b: Measurement) =>
      `${(b.totalS / a.totalS).toFixed(2)}x time for ${b.rpcs / a.rpcs}x RPCs`;
    const linear =
      medium.totalS / small.totalS <= medium.rpcs / small.rpcs &&
      large.totalS / medium.totalS <= large.rpcs / medium.rpcs;
    console.log(
      `\n500 RPCs: ${large.totalS.toFixed(1)} s (goal < 60 s: ${large.totalS < 60 ? 'met' : 'NOT met'}). ` +
        `10 -> 100: ${growth(small, medium)}; 100 -> 500: ${growth(medium, large)} ` +
        `(${linear ? 'no faster than linear' : 'FASTER than linear'}). ` +
        `Marginal cost from 100 to 500: ${(((large.totalS - medium.totalS) / (large.rpcs - medium.rpcs)) * 1000).toFixed(0)} ms per RPC.`,
    );
  }
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  const one = process.argv.indexOf('--one');
  if (one >= 0) {
    const rpcs = Number(process.argv[one + 1]);
    const bundler = (process.argv[one + 2] ?? 'prebundle') as Bundler;
    console.log(JSON.stringify(await measureOne(rpcs, bundler)));
  } else {
    await run();
  }
}
