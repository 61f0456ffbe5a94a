/** Input transformer rendering: placeholders in and out of strings, predefined variables, missing paths. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ruleDefinition } from '../../lib/local/assembly/model.ts';
import { evaluateJsonPath } from '../../lib/local/services/eventbridge/json-path.ts';
import { renderInput, validateTransformer } from '../../lib/local/services/eventbridge/transformer.ts';

const event = {
  version: '0',
  id: 'e-1',
  'detail-type': 'card.transaction.authorized',
  source: 'event-router.card',
  account: '111122223333',
  time: '2026-01-01T00:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:one', 'arn:two'],
  detail: { amount: 7500, name: 'Café "Zé"', tags: ['a', 'b'], nested: { ok: true }, nothing: null },
};
const ctx = {
  ruleArn: 'arn:aws:events:eu-west-1:111122223333:rule/bus/r1',
  ruleName: 'r1',
  ingestionTime: '2026-01-01T00:00:01Z',
};

function render(template: string, paths: Record<string, string> = {}): string {
  const out = renderInput({ InputPathsMap: paths, InputTemplate: template }, event, ctx);
  assert.ok(out !== undefined, `${template} renders no deliverable input`);
  return out;
}

describe('input transformer', () => {
  it('inserts values as JSON outside strings and as text inside them', () => {
    const out = render(
      '{"amount": <amount>, "text": "amount <amount>", "name": <name>, "quoted": "<name>"}',
      {
        amount: '$.detail.amount',
        name: '$.detail.name',
      },
    );
    assert.deepEqual(JSON.parse(out), {
      amount: 7500,
      text: 'amount 7500',
      name: 'Café "Zé"',
      quoted: 'Café "Zé"',
    });
  });

  it('inserts objects, arrays, booleans and null as JSON', () => {
    const out = render('{"tags": <tags>, "nested": <nested>, "ok": <ok>, "nothing": <nothing>}', {
      tags: '$.detail.tags',
      nested: '$.detail.nested',
      ok: '$.detail.nested.ok',
      nothing: '$.detail.nothing',
    });
    assert.deepEqual(JSON.parse(out), { tags: ['a', 'b'], nested: { ok: true }, ok: true, nothing: null });
  });

  it('renders a missing path as "" outside strings and as nothing inside them', () => {
    // EventBridge recorded: {"command": <command>} with a path that selects nothing gives {"command": ""}.
    const out = render('{"a": <missing>, "b": "x<missing>y"}', { missing: '$.detail.nope' });
    assert.deepEqual(JSON.parse(out), { a: '', b: 'xy' });
  });

  it('renders the predefined variables', () => {
    const out = render(
      '{"rpc":"Svc/Do","event":<aws.events.event.json>,"envelope":<aws.events.event>,"rule":"<aws.events.rule-name>","arn":<aws.events.rule-arn>,"at":"<aws.events.event.ingestion-time>"}',
    );
    const parsed = JSON.parse(out);
    assert.deepEqual(parsed.event, event);
    assert.equal(parsed.envelope.detail, undefined);
    assert.equal(parsed.envelope.id, 'e-1');
    assert.equal(parsed.envelope.detailType, 'card.transaction.authorized');
    assert.equal(parsed.envelope.time, ctx.ingestionTime);
    assert.equal(parsed.rule, 'r1');
    assert.equal(parsed.arn, ctx.ruleArn);
    assert.equal(parsed.at, ctx.ingestionTime);
  });

  it('renders plain-text templates and array indices', () => {
    assert.equal(
      render('"first <r> of <n>"', { r: '$.resources[0]', n: '$.detail.amount' }),
      '"first arn:one of 7500"',
    );
  });

  it('leaves unknown placeholders and angle brackets that are not placeholders alone', () => {
    assert.equal(render('{"cmp": "a < b", "x": "<unknown>"}'), '{"cmp": "a < b", "x": "<unknown>"}');
    // ...which EventBridge refuses when the target is put.
    assert.deepEqual(validateTransformer({ InputTemplate: '{"x": "<unknown>"}' }, 't1'), [
      'InputTemplate for target t1 contains invalid placeholder unknown.',
    ]);
  });

  it('evaluates wildcards to the list of matches', () => {
    assert.deepEqual(evaluateJsonPath(event, '$.detail.tags[*]'), ['a', 'b']);
    assert.equal(evaluateJsonPath(event, "$['detail']['amount']"), 7500);
  });

  it('rejects reserved variable names and malformed paths', () => {
    const problems = validateTransformer({
      InputPathsMap: { 'aws.events.event': '$.detail', bad: 'detail.x' },
      InputTemplate: '<bad>',
    });
    assert.equal(problems.length, 2);
  });
});

interface RecordedTransform {
  readonly test: string;
  readonly detail: 'special' | 'test';
  readonly InputPathsMap: Record<string, string>;
  readonly InputTemplate: string;
  readonly delivered: boolean;
  readonly body?: unknown;
}

const recorded = JSON.parse(
  readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '..', 'conformance', 'eventbridge-transformers.json'),
    'utf8',
  ),
) as {
  event: { source: string; 'detail-type': string };
  details: Record<string, unknown>;
  cases: RecordedTransform[];
  errors: Array<{
    test: string;
    InputPath?: string;
    InputPathsMap: Record<string, string>;
    InputTemplate: string;
    error: { Code: string; Message: string };
  }>;
};

/** The recorder's placeholders (`date`, `<uuid:2>`, `<rule-name>`, account 111111111111) match any text. */
function sameAsRecorded(expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'string') {
    if (typeof actual !== 'string') return false;
    const pattern = expected
      .split(/(<[a-z-]+(?::\d+)?>|111111111111|\bdate\b)/)
      .map((part, i) => (i % 2 === 1 ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${pattern}$`, 's').test(actual);
  }
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => sameAsRecorded(e, actual[i]))
    );
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return false;
    const keys = Object.keys(expected);
    return (
      keys.length === Object.keys(actual).length &&
      keys.every((k) =>
        sameAsRecorded((expected as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k]),
      )
    );
  }
  return expected === actual;
}

describe('input transformers as EventBridge recorded them', () => {
  const ruleCtx = {
    ruleArn: 'arn:aws:events:us-east-1:000000000000:rule/bus/r1',
    ruleName: 'r1',
    ingestionTime: '2026-01-01T00:00:01Z',
  };
  recorded.cases.forEach((c, i) => {
    it(`#${i} ${c.InputTemplate.slice(0, 70)} (${c.delivered ? 'delivered' : 'not delivered'})`, () => {
      const recordedEvent = {
        version: '0',
        id: 'e-1',
        ...recorded.event,
        account: '000000000000',
        time: '2026-01-01T00:00:00Z',
        region: 'us-east-1',
        resources: [],
        detail: recorded.details[c.detail],
      };
      assert.deepEqual(validateTransformer(c), []);
      const out = renderInput(c, recordedEvent, ruleCtx);
      if (!c.delivered) {
        assert.equal(out, undefined, `${c.test}: AWS delivered nothing, the runtime rendered ${out}`);
        return;
      }
      assert.ok(out !== undefined, `${c.test}: AWS delivered, the runtime rendered invalid JSON`);
      // The recorder parsed a JSON body; a text body stayed text.
      let body: unknown = out;
      try {
        body = typeof c.body === 'string' ? out : JSON.parse(out);
      } catch {
        body = out;
      }
      assert.ok(
        sameAsRecorded(c.body, body),
        `${c.test}\n  recorded: ${JSON.stringify(c.body)}\n  rendered: ${out}`,
      );
    });
  });

  for (const e of recorded.errors)
    it(`refuses at load what PutTargets refused: ${e.error.Message}`, async () => {
      const problems: string[] = [];
      const rule = ruleDefinition(
        'r1',
        {
          EventPattern: { source: ['s'] },
          Targets: [
            {
              Id: 'target-1',
              Arn: 'arn:aws:sqs:us-east-1:000000000000:q',
              ...(e.InputPath ? { InputPath: e.InputPath } : {}),
              InputTransformer: { InputPathsMap: e.InputPathsMap, InputTemplate: e.InputTemplate },
            },
          ],
        },
        'rule r1',
        problems,
      );
      assert.equal(rule?.targets.length, 0, 'the target AWS refuses is not run');
      assert.equal(problems.length, 1);
      assert.ok(
        problems[0]?.includes(e.error.Message.replace('<target-id>', 'target-1')),
        `${problems[0]} does not say ${e.error.Message}`,
      );
    });
});
