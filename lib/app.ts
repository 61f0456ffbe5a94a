/**
 * The router as a CDK app: a core stack plus one stack per service (or shard), from a loaded spec;
 * and its synthesis (`synthesizeRouter`), shared by bin/app.ts and `event-router synth`.
 */
import { join } from 'node:path';
import { App, type Environment } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { RouterSpec } from './config/types.ts';
import { CoreStack } from './constructs/core-stack.ts';
import { applyNagChecks } from './constructs/nag.ts';
import { prebundleWorkers } from './constructs/prebundle.ts';
import { ServiceStack } from './constructs/service-stack.ts';
import { planRouter } from './plan/plan.ts';
import type { Plan, PlanOptions } from './plan/types.ts';

/** How worker code gets into the assembly. */
export type BundlingMode =
  /** Each worker is bundled by esbuild (through the CDK) during synthesis. */
  | 'esbuild'
  /** No bundling at all: templates only (fast; for tests that look at templates). */
  | 'skip';

export interface BuildAppOptions {
  /**
   * Directory of the cloud assembly.
   * @default - the CDK's default (`cdk.out`, or the directory the CDK CLI passes)
   */
  readonly outdir?: string;
  /**
   * @default 'esbuild'
   */
  readonly bundling?: BundlingMode;
  /**
   * Already bundled workers: RPC id -> directory holding `index.mjs` (see prebundleWorkers). Those
   * workers are not bundled again.
   * @default - none
   */
  readonly prebuilt?: ReadonlyMap<string, string>;
  /**
   * Planner knobs (stack resource budget, ...).
   * @default - the planner's defaults
   */
  readonly plan?: PlanOptions;
  /**
   * The plan of `spec`, when the caller already made it (e.g. to prebundle the workers); `plan` is then
   * ignored. It must come from `planRouter(spec, ...)` of this same spec.
   * @default - planned here from `spec` and `plan`
   */
  readonly planned?: Plan;
  /**
   * Run the cdk-nag AwsSolutions checks (a finding fails synthesis).
   * @default true
   */
  readonly nag?: boolean;
  /**
   * Run the CDK's built-in CloudFormation template validation during synthesis (its findings are
   * reported as warnings in validation-report.json). It is most of the synthesis time of a large router.
   * @default true (unless CDK_VALIDATION=false or `cdk synth --no-validation`)
   */
  readonly cloudFormationValidation?: boolean;
  /**
   * Account and region of every stack.
   * @default - CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION when both are set, otherwise environment-agnostic
   */
  readonly env?: Environment;
  /**
   * Extra context for the app.
   * @default - none
   */
  readonly context?: Record<string, unknown>;
}

export interface RouterApp {
  readonly app: App;
  readonly plan: Plan;
  readonly coreStack: CoreStack;
  readonly serviceStacks: readonly ServiceStack[];
}

function defaultEnv(): Environment | undefined {
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  return account && region ? { account, region } : undefined;
}

/** Builds the app and returns it with its plan and stacks. */
export function buildRouter(spec: RouterSpec, options: BuildAppOptions = {}): RouterApp {
  const plan = options.planned ?? planRouter(spec, options.plan);
  const app = new App({
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
    ...(options.cloudFormationValidation === undefined
      ? {}
      : { builtinCloudFormationValidation: options.cloudFormationValidation }),
    context: {
      // As under the CDK CLI: functions name their asset directory (the local runtime runs it from
      // there) and every stack carries the CDK metadata resource (counted in the planner's estimates).
      'aws:cdk:enable-asset-metadata': true,
      'aws:cdk:version-reporting': true,
      ...options.context,
      ...(options.bundling === 'skip' ? { 'aws:cdk:bundling-stacks': [] } : {}),
    },
  });
  const env = options.env ?? defaultEnv();
  const stackProps = env === undefined ? {} : { env };

  const coreStack = new CoreStack(app, plan.core.stackName, { ...stackProps, plan });
  const prebuilt = options.prebuilt;
  const serviceStacks = plan.stacks.map((stackPlan) => {
    const stack = new ServiceStack(app, stackPlan.stackName, {
      ...stackProps,
      plan,
      stack: stackPlan,
      ...(prebuilt === undefined
        ? {}
        : {
            codeFor: (rpc) => {
              const dir = prebuilt.get(rpc.id);
              return dir === undefined ? undefined : lambda.Code.fromAsset(dir);
            },
          }),
    });
    // Deploy order only (the bus must exist before rules on it); no value crosses stacks.
    stack.addStackDependency(coreStack, 'rules are created on the core stack bus');
    return stack;
  });

  if (options.nag ?? true) applyNagChecks(app);
  return { app, plan, coreStack, serviceStacks };
}

/** Builds the CDK app of a router: the core stack and every service stack. */
export function buildApp(spec: RouterSpec, options: BuildAppOptions = {}): App {
  return buildRouter(spec, options).app;
}

/** How worker code is bundled by {@link synthesizeRouter}. */
export const BUNDLERS = [
  /** All workers bundled in one parallel run of the local esbuild before the app is built (default). */
  'prebundle',
  /** Each function bundled by the CDK in turn (also the local esbuild). */
  'cdk',
  /** No bundling: templates only. */
  'skip',
] as const;
export type Bundler = (typeof BUNDLERS)[number];

export interface SynthesizeOptions {
  /**
   * Directory of the cloud assembly.
   * @default - the CDK's default (`CDK_OUTDIR` when the CDK CLI runs the app, else `cdk.out`)
   */
  readonly outdir?: string;
  /** @default 'prebundle' */
  readonly bundler?: Bundler;
}

/** A synthesized router: its assembly, its plan and the plan's warnings as lines for the terminal. */
export interface SynthesizedRouter {
  readonly assembly: ReturnType<App['synth']>;
  readonly plan: Plan;
  readonly warnings: readonly string[];
}

/**
 * Plans a loaded spec, bundles its workers as `bundler` says and synthesizes the app: the one synthesis
 * path of `bin/app.ts` (the CDK CLI) and `event-router synth`.
 */
export async function synthesizeRouter(
  spec: RouterSpec,
  options: SynthesizeOptions = {},
): Promise<SynthesizedRouter> {
  const bundler = options.bundler ?? 'prebundle';
  const planned = planRouter(spec);
  const bundlesDir = join(options.outdir ?? process.env.CDK_OUTDIR ?? 'cdk.out', '.bundles');
  const prebuilt =
    bundler === 'prebundle' ? (await prebundleWorkers(planned, { outDir: bundlesDir })).dirs : undefined;
  const { app, plan } = buildRouter(spec, {
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
    planned,
    bundling: bundler === 'skip' ? 'skip' : 'esbuild',
    ...(prebuilt === undefined ? {} : { prebuilt }),
  });
  const assembly = app.synth();
  const warnings = plan.warnings.map(
    (warning) => `warning: ${warning.message}${warning.hint ? `\n  hint: ${warning.hint}` : ''}`,
  );
  return { assembly, plan, warnings };
}
