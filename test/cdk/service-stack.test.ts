import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { inputTemplateFor } from '../../common/contracts.ts';
import { buildForTest, logicalIdOf, templateOf } from '../support/cdk.ts';
import { makeSpec } from '../support/specs.ts';

// Given a router where Ledger has two RPCs (one publishes a follow-up), one of them also reached through a
// filter, and Fraud has a remote RPC.
const filter = { payload: { amount: [{ numeric: ['>=', 7500] }] } };
const spec = makeSpec({
  app: 'cardflow',
  rpcs: [
    {
      id: 'Ledger/Record',
      publishes: ['ledger.recorded'],
      settings: { timeoutSeconds: 20, maxReceiveCount: 7 },
    },
    { id: 'Ledger/Settle', settings: { batchSize: 50, batchingWindowSeconds: 5, maxConcurrency: 12 } },
    {
      id: 'Fraud/Score',
      remote: { baseUrl: 'https://fraud.example.com', package: 'acme.fraud.v1' },
      settings: { timeoutSeconds: 5 },
    },
  ],
  subscriptions: [
    { event: 'card.authorized', rpc: 'Ledger/Record' },
    { event: 'card.authorized', rpc: 'Ledger/Settle', filter },
    { event: 'card.settled', rpc: 'Ledger/Settle' },
    { event: 'card.authorized', rpc: 'Fraud/Score' },
  ],
});
const router = buildForTest(spec);
const ledger = templateOf(router, 'cardflow-dev-ledger');
const fraud = templateOf(router, 'cardflow-dev-fraud');

const queueId = (template: Template, name: string) =>
  logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: name });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** Every Resource of every statement of a role's inline policies, as JSON text. */
function roleResources(template: Template, functionName: string): string {
  const fn = template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: functionName } });
  const roleRef = Object.values(fn)[0]?.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined;
  assert.ok(roleRef, `no function named ${functionName}`);
  const roleId = roleRef['Fn::GetAtt'][0];
  const role = template.findResources('AWS::IAM::Role')[roleId];
  return JSON.stringify(role?.Properties?.Policies);
}

describe('service stack: resources per kind', () => {
  it('has per RPC two queues, two queue policies, a role, a log group, a function, a mapping and three alarms, an alarm per rule, and the operator and viewer policies', () => {
    for (const [type, count] of [
      ['AWS::SQS::Queue', 4],
      ['AWS::SQS::QueuePolicy', 4],
      ['AWS::IAM::Role', 2],
      ['AWS::IAM::Policy', 0],
      ['AWS::IAM::ManagedPolicy', 2],
      ['AWS::Logs::LogGroup', 2],
      ['AWS::Lambda::Function', 2],
      ['AWS::Lambda::EventSourceMapping', 2],
      ['AWS::CloudWatch::Alarm', 2 * 3 + 3],
      ['AWS::Events::Rule', 3],
    ] as const) {
      ledger.resourceCountIs(type, count);
    }
  });
});

describe('service stack: queues', () => {
  it('encrypts with SSE-SQS, sets visibility to 6 x the timeout, and redrives to the DLQ after maxReceiveCount', () => {
    const dlq = queueId(ledger, 'cardflow-dev-ledger-record-dlq');
    ledger.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'cardflow-dev-ledger-record',
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 120,
      MessageRetentionPeriod: 4 * 86400,
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlq), maxReceiveCount: 7 },
    });
    ledger.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'cardflow-dev-ledger-record-dlq',
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86400,
      KmsMasterKeyId: Match.absent(),
      RedriveAllowPolicy: {
        redrivePermission: 'byQueue',
        sourceQueueArns: [
          Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':cardflow-dev-ledger-record'])] }),
        ],
      },
    });
  });

  it('denies every request not made over TLS, on the queue and on the DLQ', () => {
    for (const name of ['cardflow-dev-ledger-record', 'cardflow-dev-ledger-record-dlq']) {
      const id = queueId(ledger, name);
      ledger.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('lets only the rules that target the RPC send to its queue and DLQ (aws:SourceArn)', () => {
    const settle = queueId(ledger, 'cardflow-dev-ledger-settle');
    const settleDlq = queueId(ledger, 'cardflow-dev-ledger-settle-dlq');
    const filtered = logicalIdOf(ledger, 'AWS::Events::Rule', {
      Name: 'cardflow-dev-card-authorized-ledger-2',
    });
    const settled = logicalIdOf(ledger, 'AWS::Events::Rule', { Name: 'cardflow-dev-card-settled-ledger-1' });
    for (const id of [settle, settleDlq]) {
      ledger.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: Match.anyValue(),
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: arnOf(id),
              Condition: { ArnEquals: { 'aws:SourceArn': [arnOf(filtered), arnOf(settled)] } },
            },
          ]),
        },
      });
    }
  });
});

describe('service stack: rules', () => {
  it('matches the event name plus the filter on detail, and targets the queue through an input transformer', () => {
    const settle = queueId(ledger, 'cardflow-dev-ledger-settle');
    const settleDlq = queueId(ledger, 'cardflow-dev-ledger-settle-dlq');
    ledger.hasResourceProperties('AWS::Events::Rule', {
      Name: 'cardflow-dev-card-authorized-ledger-2',
      EventBusName: 'cardflow-dev-bus',
      EventPattern: { 'detail-type': ['card.authorized'], detail: filter },
      State: 'ENABLED',
      Targets: [
        {
          Id: 'settle',
          Arn: arnOf(settle),
          InputTransformer: { InputTemplate: inputTemplateFor('Ledger/Settle') },
          DeadLetterConfig: { Arn: arnOf(settleDlq) },
          RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
          RoleArn: Match.absent(),
        },
      ],
    });
    ledger.hasResourceProperties('AWS::Events::Rule', {
      Name: 'cardflow-dev-card-authorized-ledger-1',
      EventPattern: { 'detail-type': ['card.authorized'], detail: Match.absent() },
    });
  });
});

describe('service stack: workers', () => {
  it('runs nodejs22.x on arm64 with source maps, its own log group and the contract environment', () => {
    const dlq = queueId(ledger, 'cardflow-dev-ledger-record-dlq');
    ledger.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cardflow-dev-ledger-record',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 20,
      MemorySize: 256,
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          ER_APP: 'cardflow',
          ER_STAGE: 'dev',
          ER_RPC: 'Ledger/Record',
          ER_DELIVERIES_TABLE: 'cardflow-dev-deliveries',
          ER_DLQ_URL: { Ref: dlq },
          ER_EVENT_BUS: 'cardflow-dev-bus',
          ER_MAX_RECEIVE_COUNT: '7',
          ER_RECORD_RETENTION_SECONDS: String(19 * 86400),
        },
      },
    });
    ledger.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/cardflow-dev-ledger-record',
      RetentionInDays: 30,
    });
  });

  it('gives a remote RPC its Connect URL and a call timeout below the function timeout', () => {
    fraud.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cardflow-dev-fraud-score',
      Timeout: 5,
      Environment: {
        Variables: Match.objectLike({
          ER_REMOTE_URL: 'https://fraud.example.com/acme.fraud.v1.Fraud/Score',
          ER_REMOTE_TIMEOUT_MS: '4400',
        }),
      },
    });
  });

  it('reads its queue with partial batch responses, the batch size, window and maximum concurrency', () => {
    const settle = queueId(ledger, 'cardflow-dev-ledger-settle');
    ledger.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(settle),
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 12 },
    });
  });

  it('alarms on the first message in the DLQ, notifying the alarm topic', () => {
    const dlq = queueId(ledger, 'cardflow-dev-ledger-record-dlq');
    ledger.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cardflow-dev-ledger-record-dlq-depth',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      AlarmActions: [Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':cardflow-dev-alarms'])] })],
    });
  });
});

describe('service stack: least privilege', () => {
  it('lets a worker consume only its own queue, send only to its own queue and DLQ, and write only the deliveries table', () => {
    const record = queueId(ledger, 'cardflow-dev-ledger-record');
    const recordDlq = queueId(ledger, 'cardflow-dev-ledger-record-dlq');
    ledger.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyName: 'function',
          PolicyDocument: {
            Statement: Match.arrayWith([
              {
                Sid: 'ConsumeOwnQueue',
                Effect: 'Allow',
                Action: [
                  'sqs:ReceiveMessage',
                  'sqs:DeleteMessage',
                  'sqs:ChangeMessageVisibility',
                  'sqs:GetQueueAttributes',
                ],
                Resource: arnOf(record),
              },
              {
                Sid: 'RequeueToOwnQueue',
                Effect: 'Allow',
                Action: 'sqs:SendMessage',
                Resource: arnOf(record),
              },
              {
                Sid: 'SendPoisonToOwnDeadLetterQueue',
                Effect: 'Allow',
                Action: 'sqs:SendMessage',
                Resource: arnOf(recordDlq),
              },
              {
                Sid: 'RecordDeliveries',
                Effect: 'Allow',
                // A new delivery's claim is a conditional PutItem, every later write a conditional
                // UpdateItem (test/worker/iam-calls.test.ts checks these against the calls made).
                Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
                Resource: Match.objectLike({
                  'Fn::Join': ['', Match.arrayWith([':table/cardflow-dev-deliveries'])],
                }),
              },
            ]),
          },
        },
      ],
    });
  });

  it("gives RPC A's worker no right on RPC B's queue or DLQ", () => {
    const settle = queueId(ledger, 'cardflow-dev-ledger-settle');
    const settleDlq = queueId(ledger, 'cardflow-dev-ledger-settle-dlq');
    const recordRights = roleResources(ledger, 'cardflow-dev-ledger-record');
    assert.ok(!recordRights.includes(settle), `Record's role mentions Settle's queue: ${recordRights}`);
    assert.ok(!recordRights.includes(settleDlq), "Record's role mentions Settle's DLQ");
    assert.ok(!recordRights.includes('"*"'), 'no wildcard resource');
    const settleRights = roleResources(ledger, 'cardflow-dev-ledger-settle');
    assert.ok(settleRights.includes(settle));
    assert.ok(!settleRights.includes(queueId(ledger, 'cardflow-dev-ledger-record')));
  });

  it('grants no DynamoDB action the worker does not call', () => {
    const role = Object.values(ledger.findResources('AWS::IAM::Role')).map((r) => JSON.stringify(r));
    assert.ok(role.length > 0);
    for (const text of role) assert.doesNotMatch(text, /dynamodb:(DeleteItem|Query|Scan|Batch|\*)/);
  });

  it('grants PutEvents only to an RPC that publishes, only for its declared event names and own source', () => {
    ledger.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'cardflow-dev-ledger-record' });
    assert.match(roleResources(ledger, 'cardflow-dev-ledger-record'), /event-bus\/cardflow-dev-bus/);
    ledger.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyName: 'function',
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Sid: 'PublishDeclaredEvents',
                Action: 'events:PutEvents',
                Condition: {
                  StringEquals: {
                    'events:detail-type': ['ledger.recorded'],
                    // publisherSource('cardflow', 'Ledger/Record'): its own source, not its service's
                    'events:source': 'event-router.cardflow.ledger.record',
                  },
                },
              }),
            ]),
          },
        },
      ],
    });
    assert.doesNotMatch(roleResources(ledger, 'cardflow-dev-ledger-settle'), /event-bus/);
  });
});
