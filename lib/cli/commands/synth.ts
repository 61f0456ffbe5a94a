/**
 * `event-router synth [path] [--out dir] [--quiet] [--bundler prebundle|cdk|skip]`: validates the router
 * file, then synthesizes the CDK app in this process into the output directory and prints each stack
 * with its resource count. A file with errors writes nothing.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BUNDLERS, type Bundler, type SynthesizedRouter, synthesizeRouter } from '../../app.ts';
import { formatDiagnostics, loadSpec } from '../../config/load.ts';
import { CLOUDFORMATION_STACK_RESOURCE_LIMIT } from '../../plan/estimate.ts';
import { parseCommandArgs, routerFileArgument } from '../args.ts';

export const summary = 'Validate, then synthesize the AWS infrastructure into cdk.out and list its stacks';
export const usage = `event-router synth [path] [--out dir] [--quiet] [--bundler prebundle|cdk|skip]

  path       the router file (default: ./event-router.yaml)
  --out      output directory (default: cdk.out)
  --quiet    print only problems
  --bundler  prebundle: all workers bundled in parallel with the local esbuild (default)
             cdk: each function bundled by the CDK in turn (also the local esbuild)
             skip: templates only, no function code`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    { out: { type: 'string' }, quiet: { type: 'boolean' }, bundler: { type: 'string' } },
    usage,
  );
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const bundler = (values.bundler ?? 'prebundle') as Bundler;
  if (!BUNDLERS.includes(bundler)) {
    console.error(`--bundler is "${values.bundler}"; use one of ${BUNDLERS.join(', ')}.`);
    return 2;
  }
  const file = routerFileArgument('synth', positionals, usage);
  if (typeof file === 'number') return file;

  // Validate first: a file with errors writes nothing.
  const result = loadSpec(file);
  if (result.diagnostics.length > 0) console.error(formatDiagnostics(result.diagnostics));
  if (!result.spec) {
    console.error('Nothing was synthesized: fix the errors above and run synth again.');
    return 1;
  }
  const spec = result.spec;
  const outdir = values.out ?? 'cdk.out';
  const started = performance.now();

  let synthesized: SynthesizedRouter;
  try {
    synthesized = await synthesizeRouter(spec, { outdir, bundler });
  } catch (error) {
    console.error(`Synthesis failed: ${(error as Error).message}`);
    const report = join(outdir, 'validation-report.json');
    if (existsSync(report)) console.error(`The checks' findings are in ${report}.`);
    return 1;
  }
  const { assembly, warnings } = synthesized;
  for (const warning of warnings) console.error(warning);
  if (values.quiet) return 0;

  const rows = assembly.stacks.map((stack) => {
    const resources = Object.keys((stack.template as { Resources?: object }).Resources ?? {}).length;
    return { name: stack.stackName, resources };
  });
  const width = Math.max(5, ...rows.map((row) => row.name.length));
  console.log(`${'stack'.padEnd(width)}  resources`);
  for (const row of rows) {
    const flag = row.resources > CLOUDFORMATION_STACK_RESOURCE_LIMIT ? '  over the 500-resource limit!' : '';
    console.log(`${row.name.padEnd(width)}  ${String(row.resources).padStart(9)}${flag}`);
  }
  const total = rows.reduce((sum, row) => sum + row.resources, 0);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `\n${rows.length} stacks, ${total} resources, written to ${relative(process.cwd(), assembly.directory) || '.'} in ${seconds} s`,
  );
  return 0;
}
