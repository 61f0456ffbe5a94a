import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOUDFORMATION_STACK_RESOURCE_LIMIT } from '../../lib/plan/estimate.ts';
import { buildForTest } from '../support/cdk.ts';
import { generateSpec } from '../support/specs.ts';

interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: { Targets?: unknown[] } }>;
}

describe('scale', () => {
  it('synthesizes 50 services x 10 RPCs x 2 subscriptions within every platform limit', () => {
    // Given a generated router of 500 RPCs and 1000 subscriptions
    const router = buildForTest(generateSpec(50, 10, 2), { nag: false });

    // When the whole app is synthesized (cdk-nag runs in nag.test.ts; here it would only add time)
    const assembly = router.app.synth();

    // Then every stack is under CloudFormation's resource limit, exactly as the planner estimated
    assert.equal(assembly.stacks.length, 1 + router.plan.stacks.length);
    let functions = 0;
    let rules = 0;
    for (const planned of router.plan.stacks) {
      const template = assembly.getStackByName(planned.stackName).template as CfnTemplate;
      const resources = Object.values(template.Resources);
      assert.ok(
        resources.length <= CLOUDFORMATION_STACK_RESOURCE_LIMIT,
        `${planned.stackName}: ${resources.length}`,
      );
      assert.equal(resources.length, planned.estimatedResources, `${planned.stackName} estimate`);
      functions += resources.filter((resource) => resource.Type === 'AWS::Lambda::Function').length;
      // And no rule has more than 5 targets
      for (const rule of resources.filter((resource) => resource.Type === 'AWS::Events::Rule')) {
        rules += 1;
        const targets = rule.Properties?.Targets?.length ?? 0;
        assert.ok(targets >= 1 && targets <= 5, `a rule of ${planned.stackName} has ${targets} targets`);
      }
    }
    assert.equal(functions, 500);
    assert.equal(rules, router.plan.rules.length);
    // And the planner warned that the bus passes the default rule quota
    assert.deepEqual(
      router.plan.warnings.map((warning) => warning.code),
      ['bus-rule-quota'],
    );
  });

  it('shards one very large service and still keeps every stack under the limit', () => {
    const router = buildForTest(generateSpec(1, 120, 2), { nag: false });
    const assembly = router.app.synth();
    assert.ok(router.plan.stacks.length >= 3);
    for (const planned of router.plan.stacks) {
      const count = Object.keys(
        (assembly.getStackByName(planned.stackName).template as CfnTemplate).Resources,
      ).length;
      assert.equal(count, planned.estimatedResources);
      assert.ok(count <= 450);
    }
  });
});
