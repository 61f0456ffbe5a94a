import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildForTest } from '../support/cdk.ts';
import { makeSpec } from '../support/specs.ts';

const spec = makeSpec({
  app: 'cardflow',
  stage: 'prod',
  rpcs: [{ id: 'A/B' }],
  subscriptions: [{ event: 'x.y', rpc: 'A/B' }],
});
const router = buildForTest(spec);
const core = Template.fromStack(router.coreStack);

describe('core stack', () => {
  it('holds one bus, its archive, the deliveries table, the alarm key and topic', () => {
    core.resourceCountIs('AWS::Events::EventBus', 1);
    core.resourceCountIs('AWS::Events::Archive', 1);
    core.resourceCountIs('AWS::DynamoDB::Table', 1);
    core.resourceCountIs('AWS::KMS::Key', 1);
    core.resourceCountIs('AWS::SNS::Topic', 1);
    core.hasResourceProperties('AWS::Events::EventBus', { Name: 'cardflow-prod-bus' });
    core.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: 'cardflow-prod-archive',
      RetentionDays: 30,
      SourceArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
    });
  });

  it('keys deliveries by eventId + rpc, on demand, with TTL, point-in-time recovery and encryption', () => {
    core.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'cardflow-prod-deliveries',
      KeySchema: [
        { AttributeName: 'eventId', KeyType: 'HASH' },
        { AttributeName: 'rpc', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'eventId', AttributeType: 'S' },
        { AttributeName: 'rpc', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    core.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('encrypts the alarm topic with a rotating key CloudWatch may use, and denies non-TLS publishing', () => {
    const keyId = Object.keys(core.findResources('AWS::KMS::Key'))[0] as string;
    core.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    core.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'cardflow-prod-alarms',
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    core.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
  });

  it('exports nothing: service stacks find the core by name and only depend on it for ordering', () => {
    assert.deepEqual(Object.keys(core.toJSON().Outputs ?? {}), []);
    for (const stack of router.serviceStacks) {
      assert.deepEqual(
        stack.dependencies.map((dep) => dep.stackName),
        ['cardflow-prod-core'],
      );
      assert.equal(JSON.stringify(Template.fromStack(stack).toJSON()).includes('Fn::ImportValue'), false);
    }
  });

  it('keeps the archive forever when the retention is 0 days', () => {
    const forever = buildForTest({ ...spec, app: { ...spec.app, archiveRetentionDays: 0 } });
    Template.fromStack(forever.coreStack).hasResourceProperties('AWS::Events::Archive', { RetentionDays: 0 }); // 0 = indefinitely
  });
});
