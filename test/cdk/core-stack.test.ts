import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RouterCore } from '../../lib/constructs/router-core.ts';
import { names } from '../../lib/naming.ts';
import { buildForTest } from '../support/cdk.ts';
import { deliveriesTableKey, deliveriesTableResource } from '../support/deliveries-table.ts';
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

  it("grants replays in the ops records policy: the archive, the router's replays, the replay records", () => {
    core.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'cardflow-prod-ops-records',
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ReplayFromArchive',
            Action: ['events:DescribeArchive', 'events:StartReplay'],
            Resource: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
          }),
          Match.objectLike({
            Sid: 'FollowReplays',
            Action: ['events:DescribeReplay', 'events:CancelReplay'],
            Resource: {
              'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':replay/cardflow-prod-\\*$')])],
            },
          }),
          Match.objectLike({
            Sid: 'RecordReplays',
            Action: ['dynamodb:PutItem', 'dynamodb:GetItem'],
            Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ops#replays'] } },
          }),
        ]),
      },
    });
  });

  it('keys deliveries by eventId + rpc, indexes the dead ones, on demand, with TTL, point-in-time recovery and encryption', () => {
    const { KeySchema, AttributeDefinitions, GlobalSecondaryIndexes } = deliveriesTableResource(
      'cardflow-prod-deliveries',
      { deadIndex: true },
    ).Properties as Record<string, unknown>;
    assert.deepEqual(KeySchema, deliveriesTableKey().KeySchema);
    core.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'cardflow-prod-deliveries',
      KeySchema,
      AttributeDefinitions,
      // the sparse index of dead deliveries (only DEAD records carry deadRpc)
      GlobalSecondaryIndexes,
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    core.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('protects the retained deliveries table from deletion, and only a destroyable one goes without', () => {
    core.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    // Given a RouterCore whose resources are meant to be destroyed with the stack (a test environment)
    const stack = new Stack(new App(), 'Scratch');
    new RouterCore(stack, 'Router', { core: router.plan.core, removalPolicy: RemovalPolicy.DESTROY });
    // Then the table is deleted with the stack, with no deletion protection in the way
    const scratch = Template.fromStack(stack);
    scratch.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
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

  it("lets CloudWatch publish and use the key only for this account's alarms of this router", () => {
    const alarmArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':cloudwatch:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':alarm:cardflow-prod-*',
        ],
      ],
    };
    const condition = {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': alarmArn },
    };
    core.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Condition: condition }),
        ]),
      },
    });
    core.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Condition: condition }),
        ]),
      },
    });
    // And every DLQ alarm of the router is named under that prefix
    for (const stack of router.serviceStacks) {
      for (const alarm of Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))) {
        assert.match(String(alarm.Properties.AlarmName), /^cardflow-prod-/);
      }
    }
  });

  it("lets the publish function put each served publisher's events only under that publisher's source, and read deliveries and write receipts", () => {
    core.hasResourceProperties('AWS::IAM::Role', {
      Description: 'Execution role of cardflow-prod-publish',
      Policies: [
        {
          PolicyName: 'function',
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Sid: 'PublishTestPublisher',
                Action: 'events:PutEvents',
                Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RouterBus'), 'Arn'] },
                // publisherSource('cardflow', 'TestPublisher') and only its events: the old grant allowed any
                // event under one shared source, so any caller could publish another service's events.
                Condition: {
                  StringEquals: {
                    'events:source': 'event-router.cardflow.test-publisher',
                    'events:detail-type': Match.anyValue(),
                  },
                },
              }),
              Match.objectLike({
                Sid: 'DeliveriesAndReceipts',
                Action: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem'],
              }),
            ]),
          },
        },
      ],
    });
  });

  it('names the API key and usage plan of auth apiKey by the naming convention', () => {
    const withKey = buildForTest({
      ...spec,
      app: { ...spec.app, publishApi: { ...spec.app.publishApi, auth: { type: 'apiKey' } } },
    });
    const template = Template.fromStack(withKey.coreStack);
    const expected = names.publishApiKeyName({ app: 'cardflow', stage: 'prod' });
    assert.equal(expected, 'cardflow-prod-publish-api-default');
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: expected });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { UsagePlanName: expected });
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
