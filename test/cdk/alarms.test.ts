import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { RouterSpec } from '../../lib/config/types.ts';
import { buildForTest, templateOf } from '../support/cdk.ts';
import { makeSpec } from '../support/specs.ts';

// Given a router where Ledger has two RPCs, one with its own alarm settings, fed by two rules
const base = makeSpec({
  app: 'cardflow',
  rpcs: [
    // timeout 20 s -> visibility 120 s -> backlog 5 x 120 = 600 s
    { id: 'Ledger/Record', settings: { timeoutSeconds: 20 } },
    {
      id: 'Ledger/Settle',
      settings: { alarmBacklogAgeSeconds: 900, alarmErrorRatePercent: 25, alarmMinInvocations: 50 },
    },
  ],
  subscriptions: [
    { event: 'card.authorized', rpc: 'Ledger/Record' },
    { event: 'card.settled', rpc: 'Ledger/Settle' },
  ],
});
const EXTERNAL = 'arn:aws:sns:eu-west-1:123456789012:ops-alerts';
const withAlarms = (alarms: NonNullable<RouterSpec['app']['alarms']>): RouterSpec => ({
  ...base,
  app: { ...base.app, alarms },
});

const ledger = templateOf(buildForTest(base), 'cardflow-dev-ledger');
const external = templateOf(
  buildForTest(withAlarms({ topicArn: EXTERNAL, okActions: false })),
  'cardflow-dev-ledger',
);
const withOk = templateOf(buildForTest(withAlarms({ okActions: true })), 'cardflow-dev-ledger');

/** The router's own topic, as a service stack names it (by ARN, built from its name). */
const ROUTER_TOPIC = Match.objectLike({
  'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':cardflow-dev-alarms$')])],
});
const queueRef = (template: Template, name: string) => {
  const [id] = Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { QueueName: name } }));
  assert.ok(id, name);
  return { 'Fn::GetAtt': [id, 'QueueName'] };
};
const functionRef = (template: Template, name: string) => {
  const [id] = Object.keys(
    template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: name } }),
  );
  assert.ok(id, name);
  return { Ref: id };
};

describe('alarms: counts', () => {
  it('declares per RPC a DLQ-depth, a backlog and an error-rate alarm, and one alarm per rule', () => {
    // 2 RPCs x 3 + 2 rules
    ledger.resourceCountIs('AWS::CloudWatch::Alarm', 8);
    external.resourceCountIs('AWS::CloudWatch::Alarm', 8);
  });
});

describe('alarms: backlog', () => {
  it('watches the age of the oldest message of each queue, at 5 x the visibility timeout by default', () => {
    ledger.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cardflow-dev-ledger-record-backlog',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueRef(ledger, 'cardflow-dev-ledger-record') }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 600,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ROUTER_TOPIC],
      OKActions: Match.absent(),
    });
  });

  it("takes the RPC's own alarmBacklogAge", () => {
    ledger.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cardflow-dev-ledger-settle-backlog',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueRef(ledger, 'cardflow-dev-ledger-settle') }],
      Threshold: 900,
    });
  });
});

describe('alarms: worker error rate', () => {
  it('divides Errors by Invocations of the worker, counting only windows with enough invocations', () => {
    const fn = functionRef(ledger, 'cardflow-dev-ledger-record');
    ledger.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cardflow-dev-ledger-record-error-rate',
      Threshold: 10,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ROUTER_TOPIC],
      OKActions: Match.absent(),
      Metrics: Match.arrayWith([
        Match.objectLike({
          Expression: 'IF(invocations >= 10, 100 * errors / invocations, 0)',
          ReturnData: true,
        }),
        Match.objectLike({
          Id: 'errors',
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Errors',
              Dimensions: [{ Name: 'FunctionName', Value: fn }],
            },
            Period: 300,
            Stat: 'Sum',
          },
        }),
        Match.objectLike({
          Id: 'invocations',
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Invocations',
              Dimensions: [{ Name: 'FunctionName', Value: fn }],
            },
            Period: 300,
            Stat: 'Sum',
          },
        }),
      ]),
    });
  });

  it("takes the RPC's own alarmErrorRate and alarmMinInvocations", () => {
    ledger.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'cardflow-dev-ledger-settle-error-rate',
      Threshold: 25,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(invocations >= 50, 100 * errors / invocations, 0)' }),
      ]),
    });
  });
});

describe('alarms: EventBridge failed invocations', () => {
  it('watches FailedInvocations of each rule on the router bus', () => {
    const rules = ledger.findResources('AWS::Events::Rule');
    const names = Object.values(rules).map((rule) => rule.Properties.Name as string);
    assert.equal(names.length, 2);
    for (const ruleName of names) {
      ledger.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `${ruleName}-failed-invocations`,
        Namespace: 'AWS/Events',
        MetricName: 'FailedInvocations',
        Dimensions: Match.arrayEquals([
          { Name: 'EventBusName', Value: 'cardflow-dev-bus' },
          { Name: 'RuleName', Value: ruleName },
        ]),
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [ROUTER_TOPIC],
        OKActions: Match.absent(),
      });
    }
  });
});

describe('alarms: where they notify', () => {
  it('sends every alarm to the topic named in the YAML, and none to the router topic', () => {
    const alarms = Object.values(external.findResources('AWS::CloudWatch::Alarm'));
    assert.equal(alarms.length, 8);
    for (const alarm of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, [EXTERNAL], String(alarm.Properties.AlarmName));
      assert.equal(alarm.Properties.OKActions, undefined);
    }
  });

  it('sends OK notifications too, to the same topic, only when asked', () => {
    const alarms = Object.values(withOk.findResources('AWS::CloudWatch::Alarm'));
    assert.equal(alarms.length, 8);
    for (const alarm of alarms) {
      assert.deepEqual(alarm.Properties.OKActions, alarm.Properties.AlarmActions);
    }
    for (const alarm of Object.values(ledger.findResources('AWS::CloudWatch::Alarm'))) {
      assert.equal(alarm.Properties.OKActions, undefined, String(alarm.Properties.AlarmName));
    }
  });

  it('names every alarm under the router prefix the alarm topic and its key accept', () => {
    for (const alarm of Object.values(ledger.findResources('AWS::CloudWatch::Alarm'))) {
      assert.match(String(alarm.Properties.AlarmName), /^cardflow-dev-/);
    }
  });
});
