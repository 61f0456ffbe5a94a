/**
 * Alarm settings in the YAML: `app.alarms` (topic, okActions), and per RPC / in `defaults:` the backlog
 * age, error rate and minimum invocations; each problem at its exact position, all at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RPC_SETTINGS } from '../../lib/config/types.ts';
import { BASE, edit, load, summary, where } from './helpers.ts';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ops-alerts';
const withApp = (lines: string) => edit('  name: shop\n', `  name: shop\n${lines}`);
const withRpc = (lines: string) => edit('        description: Ships', `${lines}        description: Ships`);

describe('alarm settings: accepted', () => {
  it('defaults to the router topic, no OK notifications, 10% over at least 10 invocations', () => {
    const result = load(BASE);
    assert.deepEqual(result.diagnostics, []);
    assert.equal(result.spec?.app.alarms, undefined);
    const settings = result.spec?.services[0]?.rpcs[0]?.settings;
    assert.equal(settings?.alarmErrorRatePercent, 10);
    assert.equal(settings?.alarmMinInvocations, 10);
    assert.equal(settings?.alarmBacklogAgeSeconds, undefined);
    assert.equal(DEFAULT_RPC_SETTINGS.alarmErrorRatePercent, 10);
  });

  it('reads a topic ARN, okActions, and alarm settings from defaults and per RPC (the RPC wins)', () => {
    const yaml = withRpc('        alarmBacklogAge: 20m\n        alarmErrorRate: 5\n').replace(
      'services:\n',
      `defaults:\n  alarmErrorRate: 30\n  alarmMinInvocations: 100\nservices:\n`,
    );
    const result = load(
      yaml.replace('  name: shop\n', `  name: shop\n  alarms:\n    topic: ${TOPIC}\n    okActions: true\n`),
    );
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(result.spec?.app.alarms, { topicArn: TOPIC, okActions: true });
    const settings = result.spec?.services[0]?.rpcs[0]?.settings;
    assert.equal(settings?.alarmBacklogAgeSeconds, 1200);
    assert.equal(settings?.alarmErrorRatePercent, 5);
    assert.equal(settings?.alarmMinInvocations, 100);
  });

  it('accepts ARNs of other partitions and okActions: false', () => {
    const arn = 'arn:aws-us-gov:sns:us-gov-west-1:123456789012:Alerts_1';
    const result = load(withApp(`  alarms:\n    topic: ${arn}\n    okActions: false\n`));
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(result.spec?.app.alarms, { topicArn: arn, okActions: false });
  });
});

describe('alarm settings: problems, each at its position', () => {
  const cases: [string, string, string, string][] = [
    // [label, yaml, code, needle]
    [
      'a topic that is not an SNS ARN',
      withApp('  alarms:\n    topic: arn:aws:sqs:eu-west-1:123456789012:ops\n'),
      'invalid-topic-arn',
      'arn:aws:sqs',
    ],
    [
      'a FIFO topic',
      withApp('  alarms:\n    topic: arn:aws:sns:eu-west-1:123456789012:ops.fifo\n'),
      'invalid-topic-arn',
      'arn:aws:sns',
    ],
    ['a topic that is not a text', withApp('  alarms:\n    topic: 42\n'), 'wrong-type', '42'],
    ['okActions that is not a boolean', withApp('  alarms:\n    okActions: yes\n'), 'wrong-type', 'yes'],
    ['an unknown key under alarms', withApp('  alarms:\n    topc: x\n'), 'unknown-key', 'topc'],
    ['alarms that is not a mapping', withApp('  alarms: loud\n'), 'wrong-type', 'loud'],
    ['an error rate over 100', withRpc('        alarmErrorRate: 150\n'), 'out-of-range', '150'],
    ['an error rate of 0', withRpc('        alarmErrorRate: 0\n'), 'out-of-range', '0\n'],
    ['a fractional error rate', withRpc('        alarmErrorRate: 2.5\n'), 'wrong-type', '2.5'],
    ['min invocations of 0', withRpc('        alarmMinInvocations: 0\n'), 'out-of-range', '0\n'],
    ['a backlog age under a minute', withRpc('        alarmBacklogAge: 30s\n'), 'out-of-range', '30s'],
    ['a backlog age over 14 days', withRpc('        alarmBacklogAge: 15d\n'), 'out-of-range', '15d'],
    [
      'a backlog age that is not a duration',
      withRpc('        alarmBacklogAge: soon\n'),
      'wrong-type',
      'soon',
    ],
    [
      'a backlog age the queue retention never reaches',
      withRpc('        queueRetention: 1h\n        alarmBacklogAge: 2h\n'),
      'alarm-backlog-age-beyond-retention',
      '2h',
    ],
    ['a misspelt alarm setting', withRpc('        alarmErrorRat: 5\n'), 'unknown-key', 'alarmErrorRat'],
  ];
  for (const [label, yaml, code, needle] of cases) {
    it(`reports ${label}`, () => {
      const result = load(yaml);
      const { line, col } = where(yaml, needle);
      assert.deepEqual(summary(result), [{ code, line, col, severity: 'error' }]);
      const [d] = result.diagnostics;
      assert.ok(d?.hint && d.hint.length > 5, 'a hint');
    });
  }

  it('reports a backlog age from defaults beyond a retention from defaults once, at defaults', () => {
    const yaml = edit(
      'services:\n',
      'defaults:\n  queueRetention: 10m\n  alarmBacklogAge: 10m\nservices:\n  BillingService:\n    rpcs:\n      Charge:\n',
    );
    const result = load(yaml, { 'functions/rpcs/billing-service/charge.ts': 'export {}' });
    const found = summary(result).filter((d) => d.code === 'alarm-backlog-age-beyond-retention');
    const { line, col } = where(yaml, '10m', 1);
    assert.deepEqual(found, [{ code: 'alarm-backlog-age-beyond-retention', line, col, severity: 'error' }]);
  });

  it('reports every alarm problem of a file at once', () => {
    const yaml = withRpc('        alarmErrorRate: 101\n        alarmBacklogAge: 1s\n').replace(
      '  name: shop\n',
      '  name: shop\n  alarms:\n    topic: ops-alerts\n    okActions: 1\n',
    );
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'invalid-topic-arn', ...where(yaml, 'ops-alerts'), severity: 'error' },
      { code: 'wrong-type', ...where(yaml, '1\n'), severity: 'error' },
      { code: 'out-of-range', ...where(yaml, '101'), severity: 'error' },
      { code: 'out-of-range', ...where(yaml, '1s'), severity: 'error' },
    ]);
  });
});
