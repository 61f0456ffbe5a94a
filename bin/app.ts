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
import { BUNDLERS, type Bundler, synthesizeRouter } from '../lib/app.ts';
import { formatDiagnostics, loadSpec } from '../lib/config/load.ts';

const file = process.env.EVENT_ROUTER_FILE ?? 'event-router.yaml';
const bundler = (process.env.EVENT_ROUTER_BUNDLER ?? 'prebundle') as Bundler;
if (!BUNDLERS.includes(bundler)) {
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

// The assembly goes where the CDK CLI says (CDK_OUTDIR), as any CDK app's.
const { warnings } = await synthesizeRouter(result.spec, { bundler });
for (const warning of warnings) console.error(warning);
