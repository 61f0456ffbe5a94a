/**
 * Every kind of problem the loader reports, each at its exact position (1-based line and column of the
 * offending node), with a message and a hint.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSpec } from '../../lib/config/load.ts';
import type { LoadResult } from '../../lib/config/types.ts';
import { BASE, edit, HANDLER, load, summary, where } from './helpers.ts';

/** Asserts that loading `yaml` yields exactly one diagnostic, with `code`, at `needle` (nth occurrence). */
function expectOne(
  yaml: string,
  code: string,
  needle: string,
  nth = 0,
  files?: Record<string, string>,
): LoadResult {
  const result = load(yaml, files);
  const { line, col } = where(yaml, needle, nth);
  assert.deepEqual(summary(result), [{ code, line, col, severity: 'error' }]);
  assert.equal(result.spec, undefined, 'no spec when there is an error');
  const [d] = result.diagnostics;
  assert.ok(d?.message && d.message.length > 10, 'a message');
  assert.ok(d?.hint && d.hint.length > 5, 'a hint');
  return result;
}

describe('YAML problems', () => {
  it('reports a syntax error at its position and nothing else', () => {
    const yaml = 'app:\n  name: shop\nservices: [OrderService\n';
    const result = load(yaml);
    assert.equal(result.spec, undefined);
    assert.ok(result.diagnostics.length >= 1);
    assert.ok(result.diagnostics.every((d) => d.code === 'yaml-syntax'));
    assert.equal(result.diagnostics[0]?.location.line, 4);
  });

  it('reports a duplicate key at the second occurrence', () => {
    const yaml = edit('    publisher: Checkout\n', '    publisher: Checkout\n    publisher: Checkout\n');
    expectOne(yaml, 'duplicate-key', 'publisher: Checkout', 1);
  });

  it('reports an empty file', () => {
    const result = load('# nothing yet\n');
    assert.deepEqual(
      result.diagnostics.map((d) => d.code),
      ['empty-file'],
    );
  });

  it('reports a missing file without throwing', () => {
    const result = loadSpec('/nonexistent/dir/event-router.yaml');
    assert.deepEqual(summary(result), [{ code: 'file-not-found', line: 1, col: 1, severity: 'error' }]);
  });
});

describe('keys, fields and types', () => {
  it('unknown key with a did-you-mean', () => {
    const result = expectOne(
      edit('        description: Ships', '        timout: 30s\n        description: Ships'),
      'unknown-key',
      'timout',
    );
    assert.equal(result.diagnostics[0]?.hint, 'Did you mean "timeout"?');
  });

  it('unknown top-level key with a did-you-mean', () => {
    const result = expectOne(`${BASE}default:\n  memory: 512\n`, 'unknown-key', 'default:');
    assert.equal(result.diagnostics[0]?.hint, 'Did you mean "defaults"?');
  });

  it('missing app section, at the top of the file', () => {
    const result = expectOne(BASE.replace('app:\n  name: shop\n', ''), 'missing-field', 'services:');
    assert.match(result.diagnostics[0]?.message ?? '', /"app"/);
  });

  it('missing app name, at the app key', () => {
    expectOne(edit('  name: shop\n', '  stage: prod\n'), 'missing-field', 'app:');
  });

  it('missing event publisher and schema, at the event', () => {
    const yaml = edit('    publisher: Checkout\n', '');
    expectOne(yaml, 'missing-field', 'name: order.placed');
    const noSchema = edit(
      '    schema:\n      type: object\n      properties:\n        total: { type: integer }\n        country: { type: string }\n',
      '',
    );
    expectOne(noSchema, 'missing-field', 'name: order.placed');
  });

  it('missing subscriber id', () => {
    expectOne(
      edit('      - id: OrderService/ShipOrder', '      - filter: { payload: { total: [1] } }'),
      'missing-field',
      'filter:',
    );
  });

  it('wrong type of a setting, at the value', () => {
    expectOne(
      edit('        description: Ships', '        memory: lots\n        description: Ships'),
      'wrong-type',
      'lots',
    );
  });

  it('wrong type of a section', () => {
    expectOne(
      edit('  - name: order.placed', '  - name: order.placed').replace(
        /events:[\s\S]*$/,
        'events: order.placed\n',
      ),
      'wrong-type',
      'order.placed',
    );
  });

  it('a subscriber written as a bare id', () => {
    const result = expectOne(
      edit('      - id: OrderService/ShipOrder', '      - OrderService/ShipOrder'),
      'wrong-type',
      'OrderService/ShipOrder',
    );
    assert.equal(result.diagnostics[0]?.hint, 'Write `- id: OrderService/ShipOrder`.');
  });
});

describe('settings', () => {
  const cases: [string, string][] = [
    ['timeout: 901s', '901s'],
    ['timeout: 0', '0'],
    ['memory: 127', '127'],
    ['memory: 10241', '10241'],
    ['batchSize: 10001', '10001'],
    ['batchingWindow: 301s', '301s'],
    ['maxConcurrency: 1', '1'],
    ['maxConcurrency: 1001', '1001'],
    ['maxReceiveCount: 0', '0'],
    ['queueRetention: 59s', '59s'],
    ['dlqRetention: 15d', '15d'],
  ];
  for (const [setting, value] of cases) {
    it(`${setting} is out of range`, () => {
      const yaml = edit('        description: Ships', `        ${setting}\n        description: Ships`);
      const needle = `${setting.split(':')[0]}: ${value}`;
      const { line, col } = where(yaml, needle);
      const result = load(yaml);
      assert.deepEqual(summary(result), [
        { code: 'out-of-range', line, col: col + needle.length - value.length, severity: 'error' },
      ]);
    });
  }

  it('durations in every unit are accepted', () => {
    const yaml = edit(
      '        description: Ships',
      '        timeout: 2m\n        queueRetention: 12h\n        dlqRetention: 3d\n        batchingWindow: 20\n        description: Ships',
    );
    const result = load(yaml);
    assert.deepEqual(result.diagnostics, []);
    const settings = result.spec?.services[0]?.rpcs[0]?.settings;
    assert.equal(settings?.timeoutSeconds, 120);
    assert.equal(settings?.queueRetentionSeconds, 43200);
    assert.equal(settings?.dlqRetentionSeconds, 259200);
    assert.equal(settings?.batchingWindowSeconds, 20);
  });

  it('a malformed duration is a wrong type', () => {
    expectOne(
      edit('        description: Ships', '        timeout: 30 seconds\n        description: Ships'),
      'wrong-type',
      '30 seconds',
    );
  });

  it('batchSize above 10 needs a batching window, reported once at the batchSize', () => {
    const yaml = edit('        description: Ships', '        batchSize: 50\n        description: Ships');
    const result = expectOne(yaml, 'batching-window-required', '50');
    assert.match(result.diagnostics[0]?.hint ?? '', /batchingWindow: 1s/);
    const fixed = load(
      edit(
        '        description: Ships',
        '        batchSize: 50\n        batchingWindow: 1s\n        description: Ships',
      ),
    );
    assert.deepEqual(fixed.diagnostics, []);
  });

  it('batchSize in defaults is reported once for all RPCs, at defaults', () => {
    const yaml =
      `${edit('      ShipOrder:\n', '      ShipOrder:\n      CancelOrder:\n')}defaults:\n  batchSize: 20\n`.replace(
        '      - id: OrderService/ShipOrder\n',
        '      - id: OrderService/ShipOrder\n      - id: OrderService/CancelOrder\n',
      );
    expectOne(yaml, 'batching-window-required', '20', 0, {
      'functions/rpcs/order-service/cancel-order.ts': HANDLER,
    });
  });
});

describe('names and ids', () => {
  it('app name must be kebab-case', () => {
    const result = expectOne(edit('  name: shop', '  name: My Shop'), 'invalid-name', 'My Shop');
    assert.equal(result.diagnostics[0]?.hint, 'Write "my-shop".');
  });

  it('event names are lower-case dotted words', () => {
    const yaml = edit('name: order.placed', 'name: Order-Placed');
    const result = load(yaml);
    const d = result.diagnostics.find((x) => x.code === 'invalid-event-name');
    assert.deepEqual(
      d?.location && { line: d.location.line, col: d.location.col },
      where(yaml, 'Order-Placed'),
    );
    assert.equal(d?.hint, 'Write "order_placed".');
  });

  it('service and method names must be PascalCase, with the fix', () => {
    const yaml = edit('      ShipOrder:', '      ship-order:');
    const result = load(yaml);
    const d = result.diagnostics.find((x) => x.code === 'malformed-rpc-id');
    assert.deepEqual(d && { line: d.location.line, col: d.location.col }, where(yaml, 'ship-order'));
    assert.equal(d?.hint, 'Write "ShipOrder".');
  });

  it('a malformed subscriber id suggests the declared RPC', () => {
    const result = expectOne(
      edit('- id: OrderService/ShipOrder', '- id: orderService.shipOrder'),
      'malformed-rpc-id',
      'orderService.shipOrder',
    );
    assert.match(result.diagnostics[0]?.hint ?? '', /OrderService\/ShipOrder/);
  });

  it('a subscriber id in the wrong case suggests the declared RPC', () => {
    const result = expectOne(
      edit('- id: OrderService/ShipOrder', '- id: orderService/shipOrder'),
      'malformed-rpc-id',
      'orderService/shipOrder',
    );
    assert.equal(result.diagnostics[0]?.hint, 'Did you mean "OrderService/ShipOrder"?');
  });
});

describe('duplicates', () => {
  it('an event declared twice, at the second name', () => {
    const second =
      '  - name: order.placed\n    publisher: Checkout\n    schema: { type: object }\n    subscribers:\n      - id: OrderService/ShipOrder\n';
    const result = expectOne(BASE + second, 'duplicate-event', 'order.placed', 1);
    assert.match(result.diagnostics[0]?.message ?? '', /first at line 12/);
  });

  it('two events whose resource names collide', () => {
    const second =
      '  - name: order_placed\n    publisher: Checkout\n    schema: { type: object }\n    subscribers:\n      - id: OrderService/ShipOrder\n';
    expectOne(BASE + second, 'duplicate-event', 'order_placed');
  });

  it('two RPCs whose resource names collide', () => {
    const yaml = edit('      ShipOrder:\n', '      ShipOrder:\n      ApiOrder:\n      APIOrder:\n');
    const result = load(yaml);
    const dup = result.diagnostics.filter((x) => x.code === 'duplicate-rpc');
    assert.equal(dup.length, 1);
    assert.deepEqual({ line: dup[0]?.location.line, col: dup[0]?.location.col }, where(yaml, 'APIOrder'));
    assert.match(dup[0]?.message ?? '', /OrderService\/ApiOrder/);
  });

  it('two services whose resource names collide', () => {
    const yaml = `${BASE.replace('services:\n', 'services:\n  ApiService:\n    remote: { baseUrl: "https://a.example.com", package: a.v1 }\n    rpcs: { Ping: {} }\n  APIService:\n    remote: { baseUrl: "https://b.example.com", package: b.v1 }\n    rpcs: { Ping: {} }\n')}`;
    const result = load(yaml);
    const dup = result.diagnostics.filter((x) => x.code === 'duplicate-service');
    assert.equal(dup.length, 1);
    assert.deepEqual({ line: dup[0]?.location.line, col: dup[0]?.location.col }, where(yaml, 'APIService'));
  });

  it('the same RPC subscribed twice to one event, at the second id', () => {
    const yaml = edit(
      '      - id: OrderService/ShipOrder\n',
      '      - id: OrderService/ShipOrder\n      - id: OrderService/ShipOrder\n',
    );
    const result = expectOne(yaml, 'duplicate-subscription', 'OrderService/ShipOrder', 1);
    assert.match(result.diagnostics[0]?.hint ?? '', /\$or/);
  });

  it('an event listed twice in publishes', () => {
    expectOne(
      edit(
        '        description: Ships',
        '        publishes: [order.placed, order.placed]\n        intendedLoop: true\n        description: Ships',
        edit('publisher: Checkout', 'publisher: [Checkout, OrderService/ShipOrder]'),
      ),
      'duplicate-publish',
      'order.placed',
      1,
    );
  });
});

describe('references', () => {
  it('a subscriber that is not a declared RPC, with a did-you-mean', () => {
    const result = expectOne(
      edit('- id: OrderService/ShipOrder', '- id: OrderService/ShipOrders'),
      'unknown-rpc',
      'OrderService/ShipOrders',
    );
    assert.equal(result.diagnostics[0]?.hint, 'Did you mean "OrderService/ShipOrder"?');
  });

  it('a subscriber that names nothing close says how to declare it', () => {
    const yaml = `${edit('      - id: OrderService/ShipOrder\n', '      - id: OrderService/ShipOrder\n      - id: BillingService/ChargeCard\n')}`;
    const result = expectOne(yaml, 'unknown-rpc', 'BillingService/ChargeCard');
    assert.match(result.diagnostics[0]?.hint ?? '', /BillingService/);
  });

  it('publishes naming an unknown event, with a did-you-mean', () => {
    const result = expectOne(
      edit('        description: Ships', '        publishes: [order.placd]\n        description: Ships'),
      'unknown-event',
      'order.placd',
    );
    assert.equal(result.diagnostics[0]?.hint, 'Did you mean "order.placed"?');
  });
});

describe('handlers', () => {
  it('a missing handler module, at the RPC when the path is the default', () => {
    const yaml = edit('      ShipOrder:', '      PackOrder:').replace(
      'OrderService/ShipOrder',
      'OrderService/PackOrder',
    );
    const result = expectOne(yaml, 'handler-not-found', 'PackOrder');
    assert.match(result.diagnostics[0]?.message ?? '', /functions\/rpcs\/order-service\/pack-order\.ts/);
  });

  it('a missing handler module, at the handler path when it is written', () => {
    expectOne(
      edit('        description: Ships', '        handler: src/ship.ts\n        description: Ships'),
      'handler-not-found',
      'src/ship.ts',
    );
  });

  it('a handler module that does not export handler', () => {
    const result = expectOne(BASE, 'handler-not-exported', 'ShipOrder:', 0, {
      'functions/rpcs/order-service/ship-order.ts': 'export default async function () {}\n',
    });
    assert.match(result.diagnostics[0]?.hint ?? '', /default export/);
  });

  it('a handler not made by defineRpc, at its place in the handler module', () => {
    const source =
      "import type { SQSEvent } from 'aws-lambda';\n\nexport const handler = async (event: SQSEvent) => {\n  return {};\n};\n";
    const result = load(BASE, { 'functions/rpcs/order-service/ship-order.ts': source });
    assert.deepEqual(summary(result), [
      { code: 'handler-not-defined-with-defineRpc', line: 3, col: 24, severity: 'error' },
    ]);
    const d = result.diagnostics[0];
    assert.match(d?.location.file ?? '', /functions\/rpcs\/order-service\/ship-order\.ts$/);
    assert.match(d?.message ?? '', /is a plain function, not made by defineRpc/);
    assert.match(d?.hint ?? '', /defineRpc\('order\.placed', async \(payload, ctx\)/);
  });

  it('a defineRpc handler for another event than the router delivers, with file:line:col', () => {
    const source =
      "import { defineRpc } from '#commons/rpc.ts';\n\nexport const handler = defineRpc('order.shipped', async () => ({}));\n";
    const result = load(BASE, { 'functions/rpcs/order-service/ship-order.ts': source });
    assert.deepEqual(summary(result), [
      { code: 'handler-misses-events', line: 3, col: 24, severity: 'error' },
      { code: 'handler-event-not-delivered', line: 3, col: 24, severity: 'warning' },
    ]);
    assert.match(
      result.diagnostics[0]?.message ?? '',
      /receives "order\.placed".*handles only "order\.shipped".*UnknownEvent/,
    );
  });

  it('a defineRpc handler with one function per event covers the subscribed events', () => {
    const source =
      "import { defineRpc } from '#commons/rpc.ts';\nexport const handler = defineRpc({\n  'order.placed': async (payload) => ({}),\n  async 'order.paid'() {},\n});\n";
    const result = load(BASE, { 'functions/rpcs/order-service/ship-order.ts': source });
    assert.deepEqual(summary(result), [
      { code: 'handler-event-not-delivered', line: 2, col: 24, severity: 'warning' },
    ]);
    assert.match(result.diagnostics[0]?.message ?? '', /handles "order\.paid"/);
  });

  it('an explicit handler path that exists is kept relative to the YAML', () => {
    const yaml = edit(
      '        description: Ships',
      '        handler: ./src/../src/ship.ts\n        description: Ships',
    );
    const result = load(yaml, {
      'src/ship.ts': 'const run = defineRpc(routes);\nexport { run as handler };\n',
    });
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(result.spec?.services[0]?.rpcs[0]?.target, { kind: 'handler', handler: 'src/ship.ts' });
  });

  it('a handler on an RPC of a remote service', () => {
    const yaml = edit(
      '    rpcs:\n      ShipOrder:\n',
      '    remote:\n      baseUrl: https://orders.example.com/\n      package: shop.orders.v1\n    rpcs:\n      ShipOrder:\n        handler: x.ts\n',
    );
    expectOne(yaml, 'handler-in-remote', 'handler: x.ts');
  });

  it('a remote RPC whose timeout is too short for its calls, at the timeout, naming the minimum', () => {
    // batchSize 50: the worker calls 10 at a time, 5 rounds of at least 250 ms, plus claim and record
    const remote = (settings: string) =>
      edit(
        '    rpcs:\n      ShipOrder:\n',
        `    remote:\n      baseUrl: https://orders.example.com/\n      package: shop.orders.v1\n    rpcs:\n      ShipOrder:\n${settings}`,
      );
    const yaml = remote('        batchSize: 50\n        batchingWindow: 1s\n        timeout: 1s\n');
    const result = expectOne(yaml, 'remote-timeout-too-short', '1s', 1);
    assert.match(
      result.diagnostics[0]?.message ?? '',
      /remote RPC with timeout 1s, too short .* 5 rounds of 10/,
    );
    assert.match(result.diagnostics[0]?.hint ?? '', /"timeout: 2s" or more, or lower batchSize to 10/);
    // the default batch with a 1 s timeout leaves each call time enough
    assert.deepEqual(load(remote('        timeout: 1s\n')).diagnostics, []);
    assert.deepEqual(
      load(remote('        batchSize: 50\n        batchingWindow: 1s\n        timeout: 2s\n')).diagnostics,
      [],
    );
  });

  it('a bad remote URL and package', () => {
    const yaml = edit(
      '    rpcs:\n      ShipOrder:\n',
      '    remote:\n      baseUrl: orders.example.com\n      package: Shop-Orders\n    rpcs:\n      ShipOrder:\n',
    );
    const result = load(yaml);
    assert.deepEqual(
      summary(result).map((d) => [d.code, d.line, d.col]),
      [
        ['invalid-url', where(yaml, 'orders.example.com').line, where(yaml, 'orders.example.com').col],
        ['invalid-package', where(yaml, 'Shop-Orders').line, where(yaml, 'Shop-Orders').col],
      ],
    );
  });
});

describe('schemas and filters', () => {
  it('an invalid payload schema, at the offending keyword', () => {
    const result = expectOne(
      edit('total: { type: integer }', 'total: { type: integr }'),
      'invalid-schema',
      'integr',
    );
    assert.match(result.diagnostics[0]?.message ?? '', /properties\.total\.type/);
  });

  it('a schema that does not compile (bad regular expression), at the schema', () => {
    expectOne(
      edit('country: { type: string }', 'country: { type: string, pattern: "(" }'),
      'invalid-schema',
      'type: object',
    );
  });

  it('a draft-07 schema is checked as draft-07', () => {
    const yaml = edit(
      '      type: object\n',
      '      $schema: http://json-schema.org/draft-07/schema#\n      type: object\n      definitions: { id: { type: string } }\n',
    );
    assert.deepEqual(load(yaml).diagnostics, []);
  });

  it('an invalid filter, at the offending node, in EventBridge words', () => {
    const yaml = edit(
      '      - id: OrderService/ShipOrder',
      '      - id: OrderService/ShipOrder\n        filter:\n          payload:\n            total: [{ numeric: [">", 0, ">", 5] }]',
    );
    const result = expectOne(yaml, 'invalid-filter', '[">", 0');
    assert.match(result.diagnostics[0]?.message ?? '', /Bad numeric range operator: >/);
  });

  it('a filter value that is not a list, with the fix', () => {
    const yaml = edit(
      '      - id: OrderService/ShipOrder',
      '      - id: OrderService/ShipOrder\n        filter:\n          payload:\n            country: DE',
    );
    const result = expectOne(yaml, 'invalid-filter', 'DE');
    assert.match(result.diagnostics[0]?.hint ?? '', /country: \[value\]/);
  });

  it('a misspelled matcher, with a did-you-mean', () => {
    const yaml = edit(
      '      - id: OrderService/ShipOrder',
      '      - id: OrderService/ShipOrder\n        filter: { payload: { country: [{ prefx: D }] } }',
    );
    const result = expectOne(yaml, 'invalid-filter', 'prefx');
    assert.equal(result.diagnostics[0]?.hint, 'Did you mean "prefix"?');
  });

  it('a filter field outside the envelope', () => {
    const yaml = edit(
      '      - id: OrderService/ShipOrder',
      '      - id: OrderService/ShipOrder\n        filter: { total: [1] }',
    );
    expectOne(yaml, 'filter-unknown-field', 'total: [1]');
  });

  it('a metadata field that events do not have', () => {
    const yaml = edit(
      '      - id: OrderService/ShipOrder',
      '      - id: OrderService/ShipOrder\n        filter: { metadata: { publisherr: [Checkout] } }',
    );
    const result = expectOne(yaml, 'filter-unknown-field', 'publisherr');
    assert.equal(result.diagnostics[0]?.hint, 'Did you mean "publisher"?');
  });

  it('a rule pattern over 2048 characters', () => {
    const countries = Array.from({ length: 400 }, (_, i) => `C${i}`).join(', ');
    const yaml = edit(
      '      - id: OrderService/ShipOrder',
      `      - id: OrderService/ShipOrder\n        filter: { payload: { country: [${countries}] } }`,
    );
    const result = expectOne(yaml, 'pattern-too-long', '{ payload:');
    assert.match(result.diagnostics[0]?.message ?? '', /at most 2048/);
  });
});

describe('app settings', () => {
  it('jwt auth needs issuer and audience', () => {
    const yaml = edit(
      '  name: shop\n',
      '  name: shop\n  publishApi:\n    auth: jwt\n',
      edit('iam: arn:aws:iam::*:role/checkout', 'jwt: { claim: sub, value: checkout }'),
    );
    const result = load(yaml);
    assert.deepEqual(
      summary(result).map((d) => d.code),
      ['missing-field', 'missing-field'],
    );
    assert.deepEqual(
      { line: result.diagnostics[0]?.location.line, col: result.diagnostics[0]?.location.col },
      where(yaml, 'auth: jwt'),
    );
  });

  it('issuer without jwt auth is an error', () => {
    expectOne(
      edit(
        '  name: shop\n',
        '  name: shop\n  publishApi:\n    auth: iam\n    issuer: https://id.example.com\n',
      ),
      'unused-setting',
      'issuer',
    );
  });

  it('an unknown auth type suggests the right spelling', () => {
    const result = expectOne(
      edit('  name: shop\n', '  name: shop\n  publishApi: { auth: apikey }\n'),
      'invalid-value',
      'apikey',
    );
    assert.equal(result.diagnostics[0]?.hint, 'Write "apiKey".');
  });
});

describe('warnings', () => {
  it('an RPC no event reaches and an event nobody subscribes to; the spec is still built', () => {
    const yaml = `${edit('      ShipOrder:\n', '      ShipOrder:\n      RefundOrder:\n')}  - name: order.cancelled\n    publisher: Checkout\n    schema: { type: object }\n`;
    const result = load(yaml, { 'functions/rpcs/order-service/refund-order.ts': HANDLER });
    assert.deepEqual(summary(result), [
      { code: 'unreachable-rpc', ...where(yaml, 'RefundOrder'), severity: 'warning' },
      { code: 'unsubscribed-event', ...where(yaml, 'order.cancelled'), severity: 'warning' },
    ]);
    assert.ok(result.spec, 'warnings do not block the spec');
  });

  it('a filter on a payload field the schema does not declare', () => {
    const yaml = edit(
      '      - id: OrderService/ShipOrder',
      '      - id: OrderService/ShipOrder\n        filter: { payload: { totl: [1] } }',
    );
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'filter-unknown-payload-field', ...where(yaml, 'totl'), severity: 'warning' },
    ]);
    assert.equal(result.diagnostics[0]?.hint, 'Did you mean "total"?');
  });

  it('a dedup retention shorter than queue + DLQ retention', () => {
    const yaml = edit('  name: shop\n', '  name: shop\n  dedupRetention: 7d\n');
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'dedup-retention-short', ...where(yaml, '7d'), severity: 'warning' },
    ]);
    assert.equal(result.spec?.app.dedupRetentionSeconds, 7 * 86400);
  });

  it("an RPC's DLQ retention shorter than its queue retention, at the RPC's dlqRetention", () => {
    const yaml = edit('        description: Ships', '        dlqRetention: 1d\n        description: Ships');
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'dlq-retention-short', ...where(yaml, '1d'), severity: 'warning' },
    ]);
    const [d] = result.diagnostics;
    assert.match(d?.message ?? '', /RPC OrderService\/ShipOrder keeps messages 1d .*queue's 4d/);
    assert.match(d?.message ?? '', /original enqueue time/);
    assert.match(d?.hint ?? '', /Make dlqRetention at least queueRetention: 4d or more/);
    assert.ok(result.spec, 'a warning does not block the spec');

    const equal = load(
      edit(
        '        description: Ships',
        '        queueRetention: 2d\n        dlqRetention: 2d\n        description: Ships',
      ),
    );
    assert.deepEqual(equal.diagnostics, []);
  });

  it('a short dlqRetention in defaults is reported once, at defaults, for every RPC that uses it', () => {
    const yaml =
      `${edit('      ShipOrder:\n', '      ShipOrder:\n      CancelOrder:\n')}defaults:\n  dlqRetention: 2d\n`.replace(
        '      - id: OrderService/ShipOrder\n',
        '      - id: OrderService/ShipOrder\n      - id: OrderService/CancelOrder\n',
      );
    const result = load(yaml, { 'functions/rpcs/order-service/cancel-order.ts': HANDLER });
    assert.deepEqual(summary(result), [
      { code: 'dlq-retention-short', ...where(yaml, '2d'), severity: 'warning' },
    ]);
    assert.match(result.diagnostics[0]?.message ?? '', /"defaults"/);
  });

  it("a defaults dlqRetention shorter than one RPC's own queueRetention is reported for that RPC, at defaults", () => {
    const yaml = `${edit('        description: Ships', '        queueRetention: 3d\n        description: Ships')}defaults:\n  dlqRetention: 2d\n`;
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'dlq-retention-short', ...where(yaml, '2d'), severity: 'warning' },
    ]);
    assert.match(
      result.diagnostics[0]?.message ?? '',
      /RPC OrderService\/ShipOrder keeps messages 2d .*queue's 3d/,
    );
  });
});
