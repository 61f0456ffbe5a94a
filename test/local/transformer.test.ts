/** Input transformer rendering: placeholders in and out of strings, predefined variables, missing paths. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateJsonPath } from '../../lib/local/eventbridge/json-path.ts';
import { renderInput, validateTransformer } from '../../lib/local/eventbridge/transformer.ts';

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
  return renderInput({ InputPathsMap: paths, InputTemplate: template }, event, ctx);
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

  it('renders a missing path as null outside strings and as nothing inside them', () => {
    const out = render('{"a": <missing>, "b": "x<missing>y"}', { missing: '$.detail.nope' });
    assert.deepEqual(JSON.parse(out), { a: null, b: 'xy' });
  });

  it('renders the predefined variables', () => {
    const out = render(
      '{"rpc":"Svc/Do","event":<aws.events.event.json>,"envelope":<aws.events.event>,"rule":"<aws.events.rule-name>","arn":<aws.events.rule-arn>,"at":"<aws.events.event.ingestion-time>"}',
    );
    const parsed = JSON.parse(out);
    assert.deepEqual(parsed.event, event);
    assert.equal(parsed.envelope.detail, undefined);
    assert.equal(parsed.envelope.id, 'e-1');
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
