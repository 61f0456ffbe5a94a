/**
 * The CDK app of this project (`cdk.json` runs it): loads `event-router.yaml`, stops with its diagnostics
 * when it has errors (before anything is written to cdk.out), otherwise bundles the workers and
 * synthesizes the core stack and every service stack.
 *
 * Environment:
 * - EVENT_ROUTER_FILE     the router file (default: event-router.yaml in the current directory)
 * - EVENT_ROUTER_BUNDLER  `prebundle` (default: all workers bundled in parallel by the local esbuild),
 *                         `cdk` (each function bundled by the CDK, one after the other, also local esbuild),
 *                         `skip` (no bundling: templates only)
 */
import { join } from 'node:path';
import { buildRouter } from '../lib/app.ts';
import { formatDiagnostics, loadSpec } from '../lib/config/load.ts';
import { prebundleWorkers } from '../lib/constructs/prebundle.ts';
import { planRouter } from '../lib/plan/plan.ts';

const file = process.env.EVENT_ROUTER_FILE ?? 'event-router.yaml';
const bundler = process.env.EVENT_ROUTER_BUNDLER ?? 'prebundle';
if (!['prebundle', 'cdk', 'skip'].includes(bundler)) {
  console.error(`EVENT_ROUTER_BUNDLER is "${bundler}"; use prebundle, cdk or skip.`);
  process.exit(1);
}

const result = loadSpec(file);
if (result.diagnostics.length > 0) console.error(formatDiagnostics(result.diagnostics));
if (!result.spec) {
  console.error(
    `${file} has errors: nothing was synthesized. Fix them (npx event-router validate) and run synth again.`,
  );
  process.exit(1);
}
const spec = result.spec;

const outdir = process.env.CDK_OUTDIR ?? 'cdk.out';
const planned = planRouter(spec);
const prebuilt =
  bundler === 'prebundle'
    ? (await prebundleWorkers(planned, { outDir: join(outdir, '.bundles') })).dirs
    : undefined;
const { app, plan } = buildRouter(spec, {
  planned,
  bundling: bundler === 'skip' ? 'skip' : 'esbuild',
  ...(prebuilt === undefined ? {} : { prebuilt }),
});
for (const warning of plan.warnings) {
  console.error(`warning: ${warning.message}${warning.hint ? `\n  hint: ${warning.hint}` : ''}`);
}
app.synth();
