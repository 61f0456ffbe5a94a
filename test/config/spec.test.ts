/**
 * What a valid file becomes: the RouterSpec with every default applied.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSpec } from '../../lib/config/load.ts';
import { DEFAULT_RPC_SETTINGS } from '../../lib/config/types.ts';
import { BASE, edit, load } from './helpers.ts';

describe('RouterSpec', () => {
  it('applies every default to a minimal file', () => {
    const result = load(BASE);
    assert.deepEqual(result.diagnostics, []);
    const spec = result.spec;
    assert.ok(spec);
    assert.deepEqual(spec.app, {
      name: 'shop',
      stage: 'dev',
      archiveRetentionDays: 30,
      dedupRetentionSeconds: (4 + 14 + 1) * 86400,
      publishApi: { auth: { type: 'iam' }, rateLimit: 100, burstLimit: 200 },
    });
    const [service] = spec.services;
    assert.equal(service?.name, 'OrderService');
    assert.deepEqual(service?.location, { file: result.file, line: 4, col: 3 });
    const [rpc] = service?.rpcs ?? [];
    assert.deepEqual(rpc, {
      id: 'OrderService/ShipOrder',
      service: 'OrderService',
      method: 'ShipOrder',
      description: 'Ships a placed order.',
      target: { kind: 'handler', handler: 'functions/rpcs/order-service/ship-order.ts' },
      settings: DEFAULT_RPC_SETTINGS,
      publishes: [],
      intendedLoop: false,
      location: { file: result.file, line: 6, col: 7 },
    });
    assert.deepEqual(spec.subscriptions, [
      {
        event: 'order.placed',
        rpc: 'OrderService/ShipOrder',
        location: { file: result.file, line: 20, col: 9 },
      },
    ]);
    assert.equal(spec.events[0]?.schemaVersion, 1);
    assert.equal(spec.events[0]?.description, undefined);
  });

  it('merges defaults under RPC settings and computes the dedup retention from the longest', () => {
    const own = '        description: Ships a placed order.\n        queueRetention: 7d\n        timeout: 1m';
    const yaml = `${edit('        description: Ships a placed order.', own)}defaults:\n  memory: 1024\n  timeout: 20s\n  dlqRetention: 14d\n`;
    const result = load(yaml);
    assert.deepEqual(result.diagnostics, []);
    const settings = result.spec?.services[0]?.rpcs[0]?.settings;
    assert.equal(settings?.memoryMb, 1024);
    assert.equal(settings?.timeoutSeconds, 60);
    assert.equal(settings?.queueRetentionSeconds, 7 * 86400);
    assert.equal(settings?.dlqRetentionSeconds, 14 * 86400);
    assert.equal(result.spec?.app.dedupRetentionSeconds, (7 + 14 + 1) * 86400);
  });

  it('reads a remote service, an RPC written with no settings, jwt auth and a schema version', () => {
    const yaml = `app:
  name: shop
  stage: prod
  archiveRetentionDays: 0
  dedupRetention: 30d
  publishApi:
    auth: jwt
    issuer: https://id.example.com/
    audience: [web, mobile]
    throttle: { rateLimit: 50, burstLimit: 10 }
services:
  FraudService:
    remote:
      baseUrl: https://fraud.internal.example.com/
      package: acme.fraud.v1
    rpcs:
      ScoreOrder:
publishers:
  Checkout:
    jwt: { claim: client_id, value: checkout-web }
events:
  - name: order.placed
    publisher: Checkout
    schemaVersion: 3
    schema: { type: object }
    subscribers:
      - id: FraudService/ScoreOrder
        filter: { metadata: { publisher: [Checkout] }, payload: { total: [{ numeric: [">", 0] }] } }
`;
    const result = load(yaml);
    assert.deepEqual(result.diagnostics, []);
    const spec = result.spec;
    assert.deepEqual(spec?.app, {
      name: 'shop',
      stage: 'prod',
      archiveRetentionDays: 0,
      dedupRetentionSeconds: 30 * 86400,
      publishApi: {
        auth: { type: 'jwt', issuer: 'https://id.example.com/', audience: ['web', 'mobile'] },
        rateLimit: 50,
        burstLimit: 10,
      },
    });
    assert.deepEqual(spec?.services[0]?.rpcs[0]?.target, {
      kind: 'remote',
      baseUrl: 'https://fraud.internal.example.com',
      package: 'acme.fraud.v1',
    });
    assert.equal(spec?.events[0]?.schemaVersion, 3);
    assert.deepEqual(spec?.subscriptions[0]?.filter, {
      metadata: { publisher: ['Checkout'] },
      payload: { total: [{ numeric: ['>', 0] }] },
    });
  });

  it('follows YAML anchors and aliases', () => {
    const yaml =
      `${BASE.replace('      ShipOrder:\n        description: Ships a placed order.\n', '      ShipOrder: &fast\n        timeout: 5s\n      PackOrder: *fast\n')}`.replace(
        '      - id: OrderService/ShipOrder\n',
        '      - id: OrderService/ShipOrder\n      - id: OrderService/PackOrder\n',
      );
    const result = load(yaml, {
      'functions/rpcs/order-service/pack-order.ts': 'export const handler = defineRpc(routes);\n',
    });
    assert.deepEqual(result.diagnostics, []);
    assert.deepEqual(
      result.spec?.services[0]?.rpcs.map((r) => r.settings.timeoutSeconds),
      [5, 5],
    );
  });

  it('can skip the handler checks', () => {
    const result = load(
      BASE.replace('ShipOrder:', 'PackOrder:').replace('OrderService/ShipOrder', 'OrderService/PackOrder'),
    );
    assert.equal(result.diagnostics[0]?.code, 'handler-not-found');
    const skipped = loadSpec(result.file, { checkHandlers: false });
    assert.deepEqual(skipped.diagnostics, []);
    assert.ok(skipped.spec);
  });
});
