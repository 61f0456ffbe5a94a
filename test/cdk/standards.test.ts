/**
 * The security and reliability standards of the router, checked on every resource of every stack
 * synthesized from the example event-router.yaml (not on hand-picked resources): a new construct that
 * breaks one of them fails here.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { publisherSource } from '../../common/naming.ts';
import { loadSpec } from '../../lib/config/load.ts';
import { buildForTest } from '../support/cdk.ts';
import { PROJECT_ROOT } from '../support/specs.ts';

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}
interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const loaded = loadSpec(join(PROJECT_ROOT, 'event-router.yaml'));
assert.ok(loaded.spec, JSON.stringify(loaded.diagnostics));
const router = buildForTest(loaded.spec, { nag: false });
const templates = [router.coreStack, ...router.serviceStacks].map((stack) => ({
  name: stack.stackName,
  resources: Template.fromStack(stack).toJSON().Resources as Record<string, Resource>,
}));
/** Every resource of `type` in every stack, with its stack's resources (to follow Refs). */
const all = (type: string) =>
  templates.flatMap(({ name, resources }) =>
    Object.entries(resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id, resource]) => ({ stack: name, id, props: resource.Properties, resources })),
  );
const actions = (statement: Statement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];
const getAttArn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('standards, on every resource synthesized from event-router.yaml', () => {
  it('encrypts every queue with SSE-SQS, never with a KMS key', () => {
    const queues = all('AWS::SQS::Queue');
    assert.equal(queues.length, 2 * router.plan.rpcs.length);
    for (const { stack, id, props } of queues) {
      assert.equal(props.SqsManagedSseEnabled, true, `${stack}/${id}`);
      assert.equal(props.KmsMasterKeyId, undefined, `${stack}/${id}`);
    }
  });

  it('gives every queue a policy that denies non-TLS requests and lets only its rules send', () => {
    const policies = all('AWS::SQS::QueuePolicy');
    const covered = new Set<string>();
    for (const { stack, id, props } of policies) {
      const statements = (props.PolicyDocument as { Statement: Statement[] }).Statement;
      const [queue] = props.Queues as [{ Ref: string }];
      covered.add(`${stack}/${queue.Ref}`);
      assert.ok(
        statements.some(
          (s) =>
            s.Effect === 'Deny' &&
            actions(s).includes('sqs:*') &&
            JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
        ),
        `${stack}/${id}: no TLS-only statement`,
      );
      const allows = statements.filter((s) => s.Effect === 'Allow');
      assert.ok(allows.length > 0, `${stack}/${id}: no rule may send`);
      for (const allow of allows) {
        assert.deepEqual(allow.Principal, { Service: 'events.amazonaws.com' }, `${stack}/${id}`);
        assert.deepEqual(actions(allow), ['sqs:SendMessage'], `${stack}/${id}`);
        assert.deepEqual(allow.Resource, getAttArn(queue.Ref), `${stack}/${id}`);
        const sources = allow.Condition?.ArnEquals?.['aws:SourceArn'] as { 'Fn::GetAtt': [string, string] }[];
        assert.ok(sources.length > 0, `${stack}/${id}: no aws:SourceArn`);
        for (const source of sources) {
          const [ruleId] = source['Fn::GetAtt'];
          const rule = templates.find((t) => t.name === stack)?.resources[ruleId];
          assert.equal(rule?.Type, 'AWS::Events::Rule', `${stack}/${id}: aws:SourceArn is not a rule ARN`);
        }
      }
    }
    for (const { stack, id } of all('AWS::SQS::Queue'))
      assert.ok(covered.has(`${stack}/${id}`), `${stack}/${id} has no queue policy`);
  });

  it('gives every rule target a dead-letter queue and a retry policy, and no role', () => {
    const rules = all('AWS::Events::Rule');
    assert.equal(rules.length, router.plan.rules.length);
    for (const { stack, id, props } of rules) {
      for (const target of props.Targets as Record<string, unknown>[]) {
        assert.ok((target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn, `${stack}/${id}`);
        assert.ok(target.RetryPolicy, `${stack}/${id}`);
        assert.equal(target.RoleArn, undefined, `${stack}/${id}`);
      }
    }
  });

  it('takes maxReceiveCount, retentions and the visibility timeout (>= 6 x timeout) from the YAML', () => {
    for (const rpc of router.plan.rpcs) {
      const [queue] = all('AWS::SQS::Queue').filter((q) => q.props.QueueName === rpc.queueName);
      const [dlq] = all('AWS::SQS::Queue').filter((q) => q.props.QueueName === rpc.dlqName);
      const [fn] = all('AWS::Lambda::Function').filter((f) => f.props.FunctionName === rpc.functionName);
      assert.ok(queue && dlq && fn, rpc.id);
      assert.deepEqual(queue.props.RedrivePolicy, {
        deadLetterTargetArn: getAttArn(dlq.id),
        maxReceiveCount: rpc.settings.maxReceiveCount,
      });
      assert.equal(queue.props.MessageRetentionPeriod, rpc.settings.queueRetentionSeconds, rpc.id);
      assert.equal(dlq.props.MessageRetentionPeriod, rpc.settings.dlqRetentionSeconds, rpc.id);
      assert.equal(fn.props.Timeout, rpc.settings.timeoutSeconds, rpc.id);
      assert.ok((queue.props.VisibilityTimeout as number) >= 6 * rpc.settings.timeoutSeconds, rpc.id);
    }
    // The YAML's own overrides arrive: ScheduleReimbursement (timeout 60s, maxReceiveCount 10), 4d / 14d
    const [reimburse] = all('AWS::SQS::Queue').filter(
      (q) => q.props.QueueName === 'cardflow-dev-reimbursement-service-schedule-reimbursement',
    );
    assert.ok(reimburse);
    assert.equal((reimburse.props.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount, 10);
    assert.equal(reimburse.props.VisibilityTimeout, 360);
    assert.equal(reimburse.props.MessageRetentionPeriod, 4 * 24 * 3600);
  });

  it('alarms on every dead-letter queue, notifying the alarm topic', () => {
    const dlqs = all('AWS::SQS::Queue').filter((q) => String(q.props.QueueName).endsWith('-dlq'));
    const alarms = all('AWS::CloudWatch::Alarm');
    for (const dlq of dlqs) {
      const alarm = alarms.find(
        (a) =>
          a.stack === dlq.stack &&
          JSON.stringify(a.props.Dimensions) ===
            JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq.id, 'QueueName'] } }]),
      );
      assert.ok(alarm, `${dlq.stack}/${dlq.id} has no alarm`);
      assert.match(JSON.stringify(alarm.props.AlarmActions), /:cardflow-dev-alarms"/);
    }
  });

  it('runs every function on nodejs22.x, arm64, logging to its own log group with a retention', () => {
    const functions = all('AWS::Lambda::Function');
    assert.equal(functions.length, router.plan.rpcs.length + 1);
    for (const { stack, id, props, resources } of functions) {
      assert.equal(props.Runtime, 'nodejs22.x', `${stack}/${id}`);
      assert.deepEqual(props.Architectures, ['arm64'], `${stack}/${id}`);
      const logGroup = (props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      assert.equal(resources[logGroup]?.Type, 'AWS::Logs::LogGroup', `${stack}/${id}`);
      assert.equal(resources[logGroup]?.Properties.RetentionInDays, 30, `${stack}/${id}`);
    }
  });

  it('writes no "*" action or resource into any role or policy, and scopes every PutEvents by source and detail-type', () => {
    const roles = all('AWS::IAM::Role');
    assert.equal(roles.length, router.plan.rpcs.length + 1);
    const policyDocuments = [
      ...roles.flatMap(({ stack, id, props }) =>
        (props.Policies as { PolicyDocument: { Statement: Statement[] } }[]).map((p) => ({
          where: `${stack}/${id}`,
          statements: p.PolicyDocument.Statement,
        })),
      ),
      // Publisher policies (the DLQ operator policy is checked in dlq-operator-policy.test.ts).
      ...all('AWS::IAM::ManagedPolicy')
        .filter(({ props }) => String(props.ManagedPolicyName).endsWith('-publisher'))
        .map(({ stack, id, props }) => ({
          where: `${stack}/${id}`,
          statements: (props.PolicyDocument as { Statement: Statement[] }).Statement,
        })),
    ];
    const grants: { source: string; detailTypes: string[] }[] = [];
    for (const { where: owner, statements } of policyDocuments) {
      for (const statement of statements) {
        const where = `${owner} ${statement.Sid}`;
        assert.equal(statement.Effect, 'Allow', where);
        assert.ok(!actions(statement).some((action) => action.includes('*')), `${where}: wildcard action`);
        assert.ok(!JSON.stringify(statement.Resource).includes('"*"'), `${where}: "*" resource`);
        if (actions(statement).includes('events:PutEvents')) {
          const equals = statement.Condition?.StringEquals ?? {};
          const source = equals['events:source'];
          const detailTypes = equals['events:detail-type'];
          assert.equal(typeof source, 'string', `${where}: one source`);
          assert.match(String(source), /^event-router\.cardflow\./, where);
          assert.ok(Array.isArray(detailTypes) && detailTypes.length > 0, `${where}: detail-types listed`);
          grants.push({ source: String(source), detailTypes: detailTypes as string[] });
        }
      }
    }
    // The publish API (one grant per publisher it serves), the card network's own managed policy, and
    // LedgerService/RecordTransaction (its follow-up): each with its own source and only its events.
    assert.deepEqual(grants.map((g) => `${g.source} ${g.detailTypes.join(',')}`).sort(), [
      'event-router.cardflow.approval-service expense.report.approved',
      'event-router.cardflow.card-network card.transaction.authorized,card.transaction.settled',
      'event-router.cardflow.card-network card.transaction.authorized,card.transaction.settled',
      'event-router.cardflow.expense-tool expense.report.submitted',
      'event-router.cardflow.ledger-service.record-transaction ledger.entry.recorded',
      'event-router.cardflow.mobile-app receipt.uploaded',
    ]);
  });

  it("matches every rule on the source of its event's declared publishers as well as the event name", () => {
    const rules = all('AWS::Events::Rule');
    assert.equal(rules.length, router.plan.rules.length);
    const sourcesOf = new Map(
      (loaded.spec?.events ?? []).map((event) => [
        event.name,
        event.publishers.map((name) => publisherSource('cardflow', name)),
      ]),
    );
    for (const { stack, id, props } of rules) {
      const pattern = props.EventPattern as { source?: string[]; 'detail-type'?: string[] };
      const [eventName] = pattern['detail-type'] ?? [];
      assert.ok(eventName, `${stack}/${id}: detail-type`);
      assert.deepEqual(pattern.source, sourcesOf.get(eventName), `${stack}/${id}: source`);
    }
    assert.deepEqual(sourcesOf.get('ledger.entry.recorded'), [
      'event-router.cardflow.ledger-service.record-transaction',
    ]);
  });

  it('gives a publisher that puts on the bus itself a managed policy named by the convention', () => {
    const policies = all('AWS::IAM::ManagedPolicy').filter(({ props }) =>
      String(props.ManagedPolicyName).endsWith('-publisher'),
    );
    assert.deepEqual(
      policies.map(({ props }) => props.ManagedPolicyName),
      ['cardflow-dev-card-network-publisher'],
    );
  });
});
