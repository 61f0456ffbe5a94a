import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { buildForTest } from '../support/cdk.ts';
import { makeSpec } from '../support/specs.ts';

const spec = makeSpec({
  rpcs: [
    { id: 'Ledger/Record', publishes: ['ledger.recorded'] },
    { id: 'Notify/Holder', settings: { batchSize: 100, batchingWindowSeconds: 2 } },
    { id: 'Fraud/Score', remote: { baseUrl: 'https://fraud.example.com', package: 'acme.v1' } },
  ],
  subscriptions: [
    { event: 'card.used', rpc: 'Ledger/Record' },
    { event: 'card.used', rpc: 'Notify/Holder', filter: { payload: { amount: [{ numeric: ['>', 0] }] } } },
    { event: 'card.used', rpc: 'Fraud/Score' },
    { event: 'ledger.recorded', rpc: 'Notify/Holder' },
  ],
});

describe('cdk-nag AwsSolutions checks and CloudFormation validation', () => {
  it('find nothing unacknowledged in any stack of the router', () => {
    const router = buildForTest(spec, { cloudFormationValidation: true });
    const assembly = router.app.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: unknown[];
    };
    assert.deepEqual(report.pluginReports, []);
    assert.equal(assembly.stacks.length, 4);
  });

  it('find nothing when the alarms notify a topic named in the YAML, OK included', () => {
    const external = {
      ...spec,
      app: {
        ...spec.app,
        alarms: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alerts', okActions: true },
      },
    };
    const router = buildForTest(external, { cloudFormationValidation: true });
    const assembly = router.app.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: unknown[];
    };
    assert.deepEqual(report.pluginReports, []);
    const alarms = router.serviceStacks.flatMap((stack) =>
      Object.values(
        assembly.getStackByName(stack.stackName).template.Resources as Record<
          string,
          { Type: string; Properties: { AlarmActions?: unknown } }
        >,
      ).filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm'),
    );
    // 3 RPCs x 3 alarms + 3 rules (card.used splits by filter; ledger.recorded)
    assert.ok(alarms.length >= 9 + 2, String(alarms.length));
    for (const alarm of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, ['arn:aws:sns:eu-west-1:123456789012:ops-alerts']);
    }
  });

  it('fail synthesis when a stack gains a non-compliant resource', () => {
    // Given the same router plus a queue with no DLQ and no TLS-only policy
    const router = buildForTest(spec);
    const stack = router.serviceStacks[0];
    assert.ok(stack);
    new sqs.Queue(stack, 'Careless');

    // Then synthesis stops, and the report names the rules
    assert.throws(() => router.app.synth(), /Validation failed/);
    const report = readFileSync(join(router.app.outdir, 'validation-report.json'), 'utf8');
    assert.match(report, /AwsSolutions-SQS3/);
    assert.match(report, /AwsSolutions-SQS4/);
  });

  it('flag a "*" resource in a managed policy, which the DLQ operator policy acknowledges for ListQueues only', () => {
    // Given the same router plus a second managed policy with a "*" resource and no acknowledgement
    const router = buildForTest(spec);
    const stack = router.serviceStacks[0];
    assert.ok(stack);
    new iam.ManagedPolicy(stack, 'Careless', {
      statements: [new iam.PolicyStatement({ actions: ['sqs:ReceiveMessage'], resources: ['*'] })],
    });

    // Then only that policy is reported
    assert.throws(() => router.app.synth(), /Validation failed/);
    const report = readFileSync(join(router.app.outdir, 'validation-report.json'), 'utf8');
    assert.match(report, /AwsSolutions-IAM5\[Resource::\*\]/);
    assert.match(report, /Careless/);
    assert.doesNotMatch(report, /DlqOperator/);
  });
});
