/**
 * cdk-nag (AwsSolutions pack) on every stack of the router. Findings are errors of the synthesis:
 * a new finding fails `synth` until it is fixed or acknowledged (with its reason) where it arises.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** Registers the AwsSolutions checks on the whole app. */
export function applyNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/** Acknowledges one cdk-nag finding on `scope` (and everything under it), with the reason it is acceptable. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
