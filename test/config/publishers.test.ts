/**
 * Who may publish what: declared publishers, follow-ups declared on both sides, external publishers that
 * something authorizes, and loops of follow-ups. Each problem at its exact position.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BASE, edit, HANDLER, load, summary, where } from './helpers.ts';

const PACK = { 'functions/rpcs/order-service/pack-order.ts': HANDLER };

/** BASE plus OrderService/PackOrder, which publishes `order.packed` (delivered to ShipOrder). */
const FOLLOW_UP = `${edit(
  '        description: Ships a placed order.\n',
  '        description: Ships a placed order.\n      PackOrder:\n        publishes: [order.packed]\n',
  edit(
    '      - id: OrderService/ShipOrder\n',
    '      - id: OrderService/ShipOrder\n      - id: OrderService/PackOrder\n',
  ),
)}  - name: order.packed
    publisher: OrderService/PackOrder
    schema: { type: object }
    subscribers:
      - id: OrderService/ShipOrder
`;

describe('publishers', () => {
  it('loads the external publisher and the follow-up publisher with their events', () => {
    const yaml = FOLLOW_UP;
    const result = load(yaml, PACK);
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(result.spec?.publishers, [
      {
        name: 'Checkout',
        identity: { kind: 'iam', principal: 'arn:aws:iam::*:role/checkout' },
        putsOnBus: false,
        events: ['order.placed'],
        location: { file: result.file, ...where(yaml, 'Checkout:') },
      },
    ]);
    assert.deepEqual(
      result.spec?.events.map((e) => [e.name, e.publishers]),
      [
        ['order.placed', ['Checkout']],
        ['order.packed', ['OrderService/PackOrder']],
      ],
    );
  });

  it('an event whose publisher is undeclared, at the name, with the RPC that publishes it as the hint', () => {
    const yaml = edit('publisher: OrderService/PackOrder', 'publisher: OrderService', FOLLOW_UP);
    const result = load(yaml, PACK);
    assert.deepEqual(summary(result), [
      { code: 'undeclared-follow-up', ...where(yaml, 'order.packed]'), severity: 'error' },
      { code: 'unknown-publisher', ...where(yaml, 'OrderService\n'), severity: 'error' },
    ]);
    assert.match(
      result.diagnostics[1]?.message ?? '',
      /"OrderService" of event "order.packed" is not declared/,
    );
    assert.match(result.diagnostics[1]?.hint ?? '', /publisher: OrderService\/PackOrder/);
  });

  it('an unknown external publisher gets a did-you-mean', () => {
    const yaml = edit('publisher: Checkout', 'publisher: Chekout');
    const result = load(yaml);
    assert.deepEqual(
      summary(result).filter((d) => d.severity === 'error'),
      [{ code: 'unknown-publisher', ...where(yaml, 'Chekout'), severity: 'error' }],
    );
    assert.match(result.diagnostics.find((d) => d.code === 'unknown-publisher')?.hint ?? '', /"Checkout"/);
  });

  it('an RPC publishing an event that does not name it, at the publishes entry', () => {
    const yaml = edit('publisher: OrderService/PackOrder', 'publisher: Checkout', FOLLOW_UP);
    const result = load(yaml, PACK);
    assert.deepEqual(summary(result), [
      { code: 'undeclared-follow-up', ...where(yaml, 'order.packed]'), severity: 'error' },
    ]);
    assert.match(result.diagnostics[0]?.message ?? '', /OrderService\/PackOrder publishes "order.packed"/);
    assert.match(result.diagnostics[0]?.hint ?? '', /publisher: \[Checkout, OrderService\/PackOrder\]/);
  });

  it('an event naming an RPC that does not declare it under publishes, at the publisher', () => {
    const yaml = edit('publishes: [order.packed]', 'description: Packs.', FOLLOW_UP);
    const result = load(yaml, PACK);
    assert.deepEqual(summary(result), [
      { code: 'undeclared-follow-up', ...where(yaml, 'OrderService/PackOrder\n', 1), severity: 'error' },
    ]);
    assert.match(result.diagnostics[0]?.hint ?? '', /Add "order.packed" to the "publishes" of/);
  });

  it('an external publisher that nothing authorizes, at its name', () => {
    const yaml = edit('    iam: arn:aws:iam::*:role/checkout\n', '    description: The web shop.\n');
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'unauthorized-publisher', ...where(yaml, 'Checkout:'), severity: 'error' },
    ]);
    assert.match(result.diagnostics[0]?.hint ?? '', /putsOnBus: true/);
  });

  it('an identity the publish API never checks, at the identity', () => {
    const yaml = edit('    iam: arn:aws:iam::*:role/checkout\n', '    apiKey: checkout\n');
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'unauthorized-publisher', ...where(yaml, 'apiKey:'), severity: 'error' },
    ]);
    assert.match(result.diagnostics[0]?.message ?? '', /publish API uses iam auth/);
  });

  it('a publisher that puts on the bus itself needs no API identity', () => {
    const yaml = edit('    iam: arn:aws:iam::*:role/checkout\n', '    putsOnBus: true\n');
    const result = load(yaml);
    assert.deepEqual(result.diagnostics, []);
    assert.equal(result.spec?.publishers[0]?.putsOnBus, true);
  });

  it('a malformed identity and two identities, each at its value', () => {
    const yaml = edit(
      '    iam: arn:aws:iam::*:role/checkout\n',
      '    iam: checkout-role\n    jwt: { claim: sub }\n',
    );
    const result = load(yaml);
    assert.deepEqual(
      summary(result).map((d) => [d.code, d.line, d.col]),
      [
        ['invalid-value', where(yaml, 'checkout-role').line, where(yaml, 'checkout-role').col],
        ['invalid-value', where(yaml, 'jwt:').line, where(yaml, 'jwt:').col],
      ],
    );
  });

  it('a publisher no event names only warns', () => {
    const yaml = BASE.replace('publishers:\n', 'publishers:\n  Legacy: { putsOnBus: true }\n');
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'unused-publisher', ...where(yaml, 'Legacy'), severity: 'warning' },
    ]);
    assert.ok(result.spec);
  });
});

describe('loops of follow-ups', () => {
  /** ShipOrder publishes order.shipped, delivered to PackOrder, which publishes order.placed, delivered to ShipOrder. */
  const LOOP = `${edit(
    '        description: Ships a placed order.\n',
    '        description: Ships a placed order.\n        publishes: [order.shipped]\n      PackOrder:\n        publishes: [order.placed]\n',
    edit('publisher: Checkout', 'publisher: [Checkout, OrderService/PackOrder]'),
  )}  - name: order.shipped
    publisher: OrderService/ShipOrder
    schema: { type: object }
    subscribers:
      - id: OrderService/PackOrder
`;

  it('reports the loop once, with its path, at the publishes entry of the first RPC', () => {
    const result = load(LOOP, PACK);
    assert.deepEqual(summary(result), [
      { code: 'publish-cycle', ...where(LOOP, 'order.shipped]'), severity: 'error' },
    ]);
    assert.equal(
      result.diagnostics[0]?.message,
      'Follow-ups loop: OrderService/ShipOrder publishes "order.shipped" -> OrderService/PackOrder publishes "order.placed" -> OrderService/ShipOrder again. On AWS each event publishes the next one forever.',
    );
    assert.match(result.diagnostics[0]?.hint ?? '', /intendedLoop: true/);
  });

  it('an RPC that triggers itself is a loop of one', () => {
    const yaml = edit(
      '        description: Ships a placed order.\n',
      '        description: Ships a placed order.\n        publishes: [order.placed]\n',
      edit('publisher: Checkout', 'publisher: [Checkout, OrderService/ShipOrder]'),
    );
    const result = load(yaml);
    assert.deepEqual(summary(result), [
      { code: 'publish-cycle', ...where(yaml, 'order.placed]'), severity: 'error' },
    ]);
    assert.match(
      result.diagnostics[0]?.message ?? '',
      /ShipOrder publishes "order.placed" -> OrderService\/ShipOrder again/,
    );
  });

  it('is accepted when an RPC of the loop marks it intended', () => {
    const yaml = edit('      PackOrder:\n', '      PackOrder:\n        intendedLoop: true\n', LOOP);
    const result = load(yaml, PACK);
    assert.deepEqual(result.diagnostics, []);
    assert.equal(result.spec?.services[0]?.rpcs[1]?.intendedLoop, true);
  });
});
