/**
 * Hostile or broken files get positioned diagnostics, never a stack trace: alias bombs inside a
 * schema or a filter, nesting 3,000 deep, an unknown `$schema`, handler paths that leave the
 * project, bytes that are not UTF-8, and schema patterns that can backtrack for ever.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSpec } from '../../lib/config/load.ts';
import { BASE, edit, HANDLER, load, project, summary, where } from './helpers.ts';

/** BASE with `from` replaced by `to` taken literally (patterns hold `$'`, which `replace` would expand). */
function put(from: string, to: string): string {
  return BASE.split(from).join(to);
}

const BOMB = (indent: string) =>
  [
    `x0: &a0 [x, x, x, x, x, x, x, x, x, x]`,
    `x1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]`,
    `x2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]`,
    `x3: [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]`,
  ]
    .map((line) => `${indent}${line}\n`)
    .join('');

describe('resource exhaustion in the YAML', () => {
  it('an alias bomb inside a schema, at the schema', () => {
    const yaml = edit('      type: object\n', `      type: object\n${BOMB('      ')}`);
    const result = load(yaml);
    const { line, col } = where(yaml, 'type: object');
    assert.deepEqual(summary(result), [{ code: 'alias-limit', line, col, severity: 'error' }]);
    assert.match(result.diagnostics[0]?.message ?? '', /payload schema of event "order.placed" uses aliases/);
  });

  it('an alias bomb inside a filter, at the filter', () => {
    const yaml = edit(
      '      - id: OrderService/ShipOrder',
      `      - id: OrderService/ShipOrder\n        filter:\n          payload:\n            country: [DE]\n${BOMB('          ')}`,
    );
    const result = load(yaml);
    const { line, col } = where(yaml, 'payload:');
    assert.deepEqual(summary(result), [{ code: 'alias-limit', line, col, severity: 'error' }]);
    assert.match(result.diagnostics[0]?.message ?? '', /filter of OrderService\/ShipOrder/);
  });

  it('block nesting 3,000 deep, where it passes the limit', () => {
    const nest = Array.from({ length: 3000 }, (_, i) => `${'  '.repeat(i + 4)}a:`).join('\n');
    const yaml = edit('      type: object\n', `      type: object\n      x-deep:\n${nest} 1\n`);
    const result = load(yaml);
    assert.deepEqual(
      result.diagnostics.map((d) => d.code),
      ['too-deep'],
    );
    const d = result.diagnostics[0];
    assert.match(d?.message ?? '', /nests 129 levels deep here; the loader reads at most 128/);
    assert.ok((d?.location.line ?? 0) > 20, 'at the line where it gets too deep');
  });

  it('flow nesting 3,000 deep, at the bracket', () => {
    const yaml = edit(
      '      type: object\n',
      `      type: object\n      x-deep: ${'['.repeat(3000)}${']'.repeat(3000)}\n`,
    );
    const result = load(yaml);
    assert.deepEqual(
      result.diagnostics.map((d) => d.code),
      ['too-deep'],
    );
    assert.equal(result.diagnostics[0]?.location.line, where(yaml, 'x-deep').line);
  });
});

describe('schemas the runtime could not run safely', () => {
  it('an unknown $schema meta-schema, at $schema', () => {
    const yaml = edit(
      '      type: object\n',
      '      $schema: https://example.com/my-meta\n      type: object\n',
    );
    const result = load(yaml);
    const { line, col } = where(yaml, 'https://example.com/my-meta');
    assert.deepEqual(summary(result), [{ code: 'unknown-meta-schema', line, col, severity: 'error' }]);
    assert.match(result.diagnostics[0]?.message ?? '', /a meta-schema the runtime does not know/);
  });

  for (const pattern of ['^(a+)+$', '^(\\w+\\s?)*$', '^(a|a)*$', '(.*a){20}', '^(\\d+)\\1$'])
    it(`pattern ${pattern} (exponential backtracking), at the pattern`, () => {
      const yaml = put('country: { type: string }', `country: { type: string, pattern: '${pattern}' }`);
      const result = load(yaml);
      const { line, col } = where(yaml, `'${pattern}'`);
      assert.deepEqual(summary(result), [{ code: 'unsafe-pattern', line, col, severity: 'error' }]);
      assert.match(result.diagnostics[0]?.message ?? '', /can take exponential time/);
      assert.match(result.diagnostics[0]?.hint ?? '', /repetition inside a repetition/);
    });

  it('an unsafe patternProperties key is refused too; a property named "pattern" is not a keyword', () => {
    const yaml = put(
      'country: { type: string }',
      "country: { type: object, patternProperties: { '^(x+)+$': { type: string } } }\n        pattern: { type: string }",
    );
    assert.deepEqual(
      load(yaml).diagnostics.map((d) => d.code),
      ['unsafe-pattern'],
    );
  });

  it('keeps common safe patterns', () => {
    for (const pattern of ['^[A-Z]{3}$', '^([a-z0-9]+-)*[a-z0-9]+$', '^[a-z]+(\\.[a-z]+)*$', '^(foo|bar)*$'])
      assert.deepEqual(
        load(put('country: { type: string }', `country: { type: string, pattern: '${pattern}' }`))
          .diagnostics,
        [],
        pattern,
      );
  });
});

describe('files and paths', () => {
  it('a handler path that leaves the project root, at the path', () => {
    // Built from parts: these are YAML values under test, not paths this test reads.
    const up = (n: number, rest: string) => [...Array.from({ length: n }, () => '..'), rest].join('/');
    for (const path of [up(2, 'x.ts'), up(3, 'proc/self/environ'), `functions/${up(2, 'outside.ts')}`]) {
      const yaml = edit('        description: Ships a placed order.', `        handler: ${path}`);
      const result = load(yaml);
      const { line, col } = where(yaml, path);
      assert.deepEqual(
        summary(result),
        [{ code: 'invalid-handler-path', line, col, severity: 'error' }],
        path,
      );
      assert.match(result.diagnostics[0]?.message ?? '', /leads outside the project/);
    }
  });

  it('bytes that are not UTF-8, at the first bad byte', () => {
    const dir = project({ 'functions/rpcs/order-service/ship-order.ts': HANDLER });
    const file = join(dir, 'event-router.yaml');
    const text = BASE.replace('Ships a placed order.', 'Ships a caf\u00e9 order.');
    writeFileSync(file, Buffer.from(text, 'latin1'));
    const result = loadSpec(file);
    const { line } = where(text, 'caf');
    assert.deepEqual(
      result.diagnostics.map((d) => [d.code, d.location.line, d.location.col]),
      [['not-utf8', line, where(text, 'caf').col + 3]],
    );
    assert.match(result.diagnostics[0]?.message ?? '', /is not UTF-8: byte 0xe9/);
  });
});

describe('AWS quotas at validate time', () => {
  /** A router whose RPCs (`rpcs` of them, in turn) subscribe to `events` events: one rule each. */
  function manyRules(events: number, quotas = '', rpcs = 1): string {
    const method = (i: number) => (i === 0 ? 'ShipOrder' : `ShipOrder${i}`);
    const list = Array.from(
      { length: events },
      (_, i) =>
        `  - name: thing.e${i}\n    publisher: Checkout\n    schema: { type: object }\n    subscribers:\n      - id: OrderService/${method(i % rpcs)}\n`,
    ).join('');
    const declared = Array.from({ length: rpcs }, (_, i) => `      ${method(i)}: {}\n`).join('');
    const publishers = 'publishers:\n  Checkout:\n    iam: arn:aws:iam::*:role/checkout\n';
    return `app:\n  name: shop\n${quotas}${publishers}services:\n  OrderService:\n    rpcs:\n${declared}events:\n${list}`;
  }
  const HANDLERS = Object.fromEntries(
    [1, 2, 3].map((i) => [`functions/rpcs/order-service/ship-order${i}.ts`, HANDLER]),
  );

  it('more than 300 rules on the bus is an error naming the quota to raise', () => {
    const yaml = manyRules(301, '', 4);
    const result = load(yaml, HANDLERS);
    assert.deepEqual(summary(result), [
      { code: 'bus-rule-quota', ...where(yaml, 'app:'), severity: 'error' },
    ]);
    assert.match(result.diagnostics[0]?.message ?? '', /need 301 EventBridge rules .* default quota of 300/);
    assert.match(result.diagnostics[0]?.hint ?? '', /"Rules per event bus".*rulesPerBus: 301/);
    assert.deepEqual(load(manyRules(300, '', 4), HANDLERS).diagnostics, []);
  });

  it('an RPC reached through so many rules that its queue policy would pass 20 KB, at the RPC', () => {
    const yaml = manyRules(160);
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'policy-too-large', ...where(yaml, 'ShipOrder: {}'), severity: 'error' },
    ]);
    assert.match(
      result.diagnostics[0]?.message ?? '',
      /through 160 rules; its queue policy .* 20480-byte policy limit/,
    );
    assert.deepEqual(load(manyRules(100)).diagnostics, []);
  });

  /** The errors of a load (many unsubscribed events below also give warnings). */
  const errors = (result: ReturnType<typeof load>) => summary(result).filter((d) => d.severity === 'error');

  /**
   * `publishers` publishers served by the publish API (IAM callers), each publishing `perPublisher`
   * events with names `nameLength` long, and RPC ShipOrder publishing `followUps` events of its own.
   */
  function manyNames(
    publishers: number,
    perPublisher: number,
    nameLength: number,
    options: { putsOnBus?: boolean; followUps?: number } = {},
  ): string {
    const name = (prefix: string, i: number) => {
      const base = `${prefix}.e${i}.`;
      return `${base}${'x'.repeat(Math.max(1, nameLength - base.length))}`;
    };
    const declared = Array.from(
      { length: publishers },
      (_, p) =>
        `  Partner${p}:\n    iam: arn:aws:iam::*:role/partner-${p}\n${options.putsOnBus ? '    putsOnBus: true\n' : ''}`,
    ).join('');
    const events = Array.from({ length: publishers * perPublisher }, (_, i) => {
      const subscriber = i === 0 ? '    subscribers:\n      - id: OrderService/ShipOrder\n' : '';
      return `  - name: ${name('partner', i)}\n    publisher: Partner${Math.floor(i / perPublisher)}\n    schema: { type: object }\n${subscriber}`;
    });
    const followUps = Array.from({ length: options.followUps ?? 0 }, (_, i) => name('shipped', i));
    const followUpEvents = followUps.map(
      (event) => `  - name: ${event}\n    publisher: OrderService/ShipOrder\n    schema: { type: object }\n`,
    );
    const rpc =
      followUps.length > 0
        ? `      ShipOrder:\n        publishes: [${followUps.join(', ')}]\n        intendedLoop: true\n`
        : '      ShipOrder: {}\n';
    return `app:\n  name: shop\npublishers:\n${declared}services:\n  OrderService:\n    rpcs:\n${rpc}events:\n${[...events, ...followUpEvents].join('')}`;
  }

  it("the publish function's role, when the publishers it serves list too many events, at publishers:", () => {
    const yaml = manyNames(30, 12, 60);
    const result = load(yaml);
    assert.deepEqual(errors(result), [
      { code: 'policy-too-large', ...where(yaml, 'publishers:'), severity: 'error' },
    ]);
    assert.match(
      result.diagnostics[0]?.message ?? '',
      /serves 30 publishers with 360 events .* over IAM's 10240 for a role's inline policies/,
    );
    assert.match(result.diagnostics[0]?.hint ?? '', /putsOnBus/);
    assert.deepEqual(errors(load(manyNames(10, 12, 20))), []);
  });

  it('a publisher that puts on the bus itself, when its managed policy would pass 6,144 characters, at it', () => {
    const yaml = manyNames(1, 150, 60, { putsOnBus: true });
    const result = load(yaml);
    assert.ok(
      errors(result).some((d) => d.code === 'policy-too-large' && d.line === where(yaml, 'Partner0:').line),
      JSON.stringify(errors(result)),
    );
    assert.match(
      result.diagnostics.find((d) => /managed policy/.test(d.message))?.message ?? '',
      /Partner0 may publish 150 events; .* over IAM's 6144 for a managed policy/,
    );
    assert.deepEqual(errors(load(manyNames(1, 40, 30, { putsOnBus: true }))), []);
  });

  it("an RPC's worker role, when it publishes too many kinds of follow-up, at the RPC", () => {
    const yaml = manyNames(1, 1, 50, { followUps: 200 });
    const result = load(yaml);
    assert.deepEqual(errors(result), [
      { code: 'policy-too-large', ...where(yaml, 'ShipOrder:'), severity: 'error' },
    ]);
    assert.match(result.diagnostics[0]?.message ?? '', /publishes 200 follow-up events; its worker's role/);
    assert.deepEqual(errors(load(manyNames(1, 1, 20, { followUps: 20 }))), []);
  });

  it('a declared raised quota lifts the limit, and is itself enforced', () => {
    assert.deepEqual(load(manyRules(301, '  quotas: { rulesPerBus: 500 }\n', 4), HANDLERS).diagnostics, []);
    const yaml = manyRules(301, '  quotas: { rulesPerBus: 300 }\n', 4);
    const result = load(yaml, HANDLERS);
    assert.deepEqual(summary(result), [
      { code: 'bus-rule-quota', ...where(yaml, '300 }'), severity: 'error' },
    ]);
  });
});
