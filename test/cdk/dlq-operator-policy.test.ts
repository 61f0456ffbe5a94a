import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LONGEST, operatorPolicySize } from '../../lib/constructs/dlq-operator-policy.ts';
import { ServiceStack } from '../../lib/constructs/service-stack.ts';
import { names } from '../../lib/naming.ts';
import { MANAGED_POLICY_MAX_CHARS, MAX_RPCS_PER_SERVICE_STACK } from '../../lib/plan/estimate.ts';
import { planRouter } from '../../lib/plan/plan.ts';
import { buildForTest, logicalIdOf, templateOf, tempOutdir } from '../support/cdk.ts';
import { generateSpec, makeSpec } from '../support/specs.ts';

// Given a router where Ledger has two RPCs and Fraud one.
const spec = makeSpec({
  app: 'cardflow',
  rpcs: [{ id: 'Ledger/Record' }, { id: 'Ledger/Settle' }, { id: 'Fraud/Score' }],
  subscriptions: [
    { event: 'card.authorized', rpc: 'Ledger/Record' },
    { event: 'card.settled', rpc: 'Ledger/Settle' },
    { event: 'card.authorized', rpc: 'Fraud/Score' },
  ],
});
const router = buildForTest(spec);
const ledger = templateOf(router, 'cardflow-dev-ledger');
const fraud = templateOf(router, 'cardflow-dev-fraud');

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** The statements of the one managed policy of a template, by Sid. */
function operatorPolicy(template: Template): { name: string; statements: Map<string, Statement> } {
  const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter((p) =>
    String(p.Properties?.ManagedPolicyName).endsWith('-dlq-operator'),
  );
  assert.equal(policies.length, 1, 'one operator policy per service stack');
  const properties = policies[0]?.Properties as {
    ManagedPolicyName: string;
    PolicyDocument: { Statement: Statement[] };
  };
  return {
    name: properties.ManagedPolicyName,
    statements: new Map(properties.PolicyDocument.Statement.map((statement) => [statement.Sid, statement])),
  };
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const arnOf = (template: Template, queueName: string) => ({
  'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: queueName }), 'Arn'],
});

describe('DLQ operator policy', () => {
  it('exists once in each service stack, under its conventional name', () => {
    assert.equal(operatorPolicy(ledger).name, 'cardflow-dev-ledger-dlq-operator');
    assert.equal(operatorPolicy(fraud).name, 'cardflow-dev-fraud-dlq-operator');
    assert.equal(
      names.dlqOperatorPolicyName({ app: 'cardflow', stage: 'dev' }, 'Ledger'),
      'cardflow-dev-ledger-dlq-operator',
    );
    assert.ok(ledger.toJSON().Outputs === undefined, 'no outputs: the name is the convention');
  });

  it("grants the inspect and move-task actions on the stack's DLQs, and nothing else on them", () => {
    const { statements } = operatorPolicy(ledger);
    const dlqs = statements.get('OperateDeadLetterQueues');
    assert.ok(dlqs);
    assert.equal(dlqs.Effect, 'Allow');
    assert.deepEqual([...list(dlqs.Action)].sort(), [
      'sqs:CancelMessageMoveTask',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ListMessageMoveTasks',
      'sqs:PurgeQueue',
      'sqs:ReceiveMessage',
      'sqs:StartMessageMoveTask',
    ]);
    assert.deepEqual(list(dlqs.Resource), [
      arnOf(ledger, 'cardflow-dev-ledger-record-dlq'),
      arnOf(ledger, 'cardflow-dev-ledger-settle-dlq'),
    ]);
  });

  it("lets the move task send into the stack's RPC queues and read their depths", () => {
    const { statements } = operatorPolicy(ledger);
    const queues = statements.get('RedriveIntoRpcQueues');
    assert.ok(queues);
    assert.deepEqual([...list(queues.Action)].sort(), [
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    assert.deepEqual(list(queues.Resource), [
      arnOf(ledger, 'cardflow-dev-ledger-record'),
      arnOf(ledger, 'cardflow-dev-ledger-settle'),
    ]);
    const deliveries = statements.get('LookUpDeliveries');
    assert.deepEqual(deliveries?.Action, 'dynamodb:Query');
    assert.match(JSON.stringify(deliveries?.Resource), /:table\/cardflow-dev-deliveries"/);
  });

  it('names no queue of another service, and no DLQ of its own in a send or a wildcard', () => {
    const ledgerText = JSON.stringify(operatorPolicy(ledger).statements.get('OperateDeadLetterQueues'));
    const fraudPolicy = operatorPolicy(fraud);
    const fraudDlqs = fraudPolicy.statements.get('OperateDeadLetterQueues');
    assert.deepEqual(list(fraudDlqs?.Resource), [arnOf(fraud, 'cardflow-dev-fraud-score-dlq')]);
    // Logical ids are per stack, so compare what each reference points at: Ledger names only Ledger queues.
    const fraudIds = Object.keys(fraud.findResources('AWS::SQS::Queue'));
    const ledgerIds = new Set(Object.keys(ledger.findResources('AWS::SQS::Queue')));
    for (const id of fraudIds.filter((candidate) => !ledgerIds.has(candidate))) {
      assert.ok(!ledgerText.includes(id), `Ledger's policy mentions ${id}`);
    }
    for (const template of [ledger, fraud]) {
      const queueNames = new Map(
        Object.entries(template.findResources('AWS::SQS::Queue')).map(([id, queue]) => [
          id,
          String(queue.Properties?.QueueName),
        ]),
      );
      for (const statement of operatorPolicy(template).statements.values()) {
        const actions = list(statement.Action) as string[];
        assert.ok(
          actions.every((action) => !action.includes('*')),
          `wildcard action in ${statement.Sid}`,
        );
        for (const resource of list(statement.Resource)) {
          if (resource === '*') {
            assert.deepEqual(actions, ['sqs:ListQueues'], `"*" resource on ${statement.Sid}`);
            continue;
          }
          const ref = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
          if (ref === undefined) {
            assert.equal(
              statement.Sid,
              'LookUpDeliveries',
              `${statement.Sid} names ${JSON.stringify(resource)}`,
            );
            continue;
          }
          const queueName = queueNames.get(ref[0]) ?? '';
          assert.ok(queueName !== '', `${statement.Sid} names ${ref[0]}, not a queue of this stack`);
          if (queueName.endsWith('-dlq')) {
            assert.ok(!actions.includes('sqs:SendMessage'), `SendMessage on the DLQ ${queueName}`);
          } else {
            assert.ok(!actions.includes('sqs:DeleteMessage'), `DeleteMessage on the queue ${queueName}`);
            assert.ok(!actions.includes('sqs:ReceiveMessage'), `ReceiveMessage on the queue ${queueName}`);
          }
        }
      }
    }
  });

  it('lists queues with the only "*" resource, read-only', () => {
    const { statements } = operatorPolicy(ledger);
    assert.deepEqual(statements.get('ListQueues'), {
      Sid: 'ListQueues',
      Effect: 'Allow',
      Action: 'sqs:ListQueues',
      Resource: '*',
    });
    assert.deepEqual(
      [...statements.keys()],
      ['OperateDeadLetterQueues', 'RedriveIntoRpcQueues', 'LookUpDeliveries', 'ListQueues'],
    );
  });
});

describe('DLQ operator policy: shards and size', () => {
  it("gives every shard of a large service its own policy over that shard's DLQs only", () => {
    const sharded = buildForTest(generateSpec(1, 45, 1));
    assert.deepEqual(
      sharded.serviceStacks.map((stack) => stack.operatorPolicy.managedPolicyName),
      [
        'testapp-dev-service0-dlq-operator',
        'testapp-dev-service0-2-dlq-operator',
        'testapp-dev-service0-3-dlq-operator',
      ],
    );
    for (const stack of sharded.serviceStacks) {
      const template = Template.fromStack(stack);
      const dlqs = operatorPolicy(template).statements.get('OperateDeadLetterQueues');
      const expected = [...stack.workers.values()].map((worker) => arnOf(template, worker.rpc.dlqName));
      assert.deepEqual(list(dlqs?.Resource), expected);
      assert.ok(expected.length <= MAX_RPCS_PER_SERVICE_STACK);
    }
  });

  it('keeps the name within 128 characters, distinct per shard', () => {
    const ctx = { app: 'a'.repeat(40), stage: 's'.repeat(30) };
    const service = 'VeryLong'.repeat(12);
    const first = names.dlqOperatorPolicyName(ctx, service, 0);
    const second = names.dlqOperatorPolicyName(ctx, service, 1);
    assert.ok(first.length <= 128 && second.length <= 128, `${first.length}, ${second.length}`);
    assert.notEqual(first, second);
    assert.match(first, /^[\w+=,.@-]+$/);
  });

  it('fits the IAM size limit with MAX_RPCS_PER_SERVICE_STACK RPCs of the longest names, and not with one more', () => {
    const prefix = `arn:${LONGEST.partition}:sqs:${LONGEST.region}:${LONGEST.account}:`;
    const queueName = (i: number) => `${'q'.repeat(74)}${String(i).padStart(2, '0')}`; // 76: the longest
    const sizeFor = (count: number) => {
      const ids = [...Array(count).keys()];
      return operatorPolicySize({
        deadLetterQueues: ids.map((i) => `${prefix}${queueName(i)}-dlq`),
        queues: ids.map((i) => `${prefix}${queueName(i)}`),
        table: `arn:${LONGEST.partition}:dynamodb:${LONGEST.region}:${LONGEST.account}:table/${'t'.repeat(255)}`,
      });
    };
    assert.ok(sizeFor(MAX_RPCS_PER_SERVICE_STACK) <= MANAGED_POLICY_MAX_CHARS);
    assert.ok(sizeFor(MAX_RPCS_PER_SERVICE_STACK + 1) > MANAGED_POLICY_MAX_CHARS);
  });

  it('fails synthesis, naming the limit and the fix, when a stack holds too many RPCs for the policy', () => {
    // Given a stack built by hand with 40 RPCs of long names (the planner would never place them together)
    const longSpec = makeSpec({
      app: 'cardflow-payments-platform',
      stage: 'production',
      rpcs: [...Array(40).keys()].map((i) => ({ id: `SettlementReconciliation/ReconcileMerchantBatch${i}` })),
      subscriptions: [],
    });
    const plan = planRouter(longSpec, { stackResourceBudget: 450 });
    const [first] = plan.stacks;
    assert.ok(first);
    const app = new App({ outdir: tempOutdir(), context: { 'aws:cdk:bundling-stacks': [] } });
    new ServiceStack(app, 'TooBig', {
      plan,
      stack: { ...first, rpcs: plan.rpcs, rules: plan.rules },
      codeFor: () => lambda.Code.fromInline('export const handler = async () => ({});'),
    });

    // Then synthesis stops with the policy's name and the limit
    assert.throws(
      () => app.synth(),
      /cardflow-payments-platform-production-settlement-reconciliation-dlq-operator would be about \d+ characters, over IAM's limit of 6144/,
    );
  });
});
