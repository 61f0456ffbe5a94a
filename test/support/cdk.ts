/**
 * Helpers for CDK tests: build a router without bundling (templates only) and look at its stacks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { type BuildAppOptions, buildRouter, type RouterApp } from '../../lib/app.ts';
import type { RouterSpec } from '../../lib/config/types.ts';

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory (for a cloud assembly), removed when the test process exits. */
export function tempOutdir(prefix = 'er-cdk-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/**
 * Builds the router with bundling skipped, into a temporary directory. The CDK's CloudFormation template
 * validation is off unless asked for (nag.test.ts runs it): it dominates the time of every synthesis.
 */
export function buildForTest(spec: RouterSpec, options: BuildAppOptions = {}): RouterApp {
  return buildRouter(spec, {
    bundling: 'skip',
    outdir: tempOutdir(),
    cloudFormationValidation: false,
    ...options,
  });
}

/** The template of the service stack named `stackName`. */
export function templateOf(router: RouterApp, stackName: string): Template {
  const stack = router.serviceStacks.find((candidate) => candidate.stackName === stackName);
  if (!stack)
    throw new Error(
      `No service stack ${stackName}; have ${router.serviceStacks.map((s) => s.stackName).join(', ')}`,
    );
  return Template.fromStack(stack);
}

/** Logical id of the only resource of `type` whose properties include `props`. */
export function logicalIdOf(template: Template, type: string, props: Record<string, unknown>): string {
  const found = Object.keys(template.findResources(type, { Properties: props }));
  if (found.length !== 1)
    throw new Error(`Expected one ${type} with ${JSON.stringify(props)}, found ${found.length}`);
  return found[0] as string;
}
