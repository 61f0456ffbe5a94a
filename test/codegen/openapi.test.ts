import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { buildOpenApi } from '../../lib/openapi/index.ts';
import { event, specOf } from './support.ts';

const MONEY_SCHEMA = {
  type: 'object',
  required: ['total'],
  $defs: { money: { type: 'object', required: ['amount'], properties: { amount: { type: 'integer' } } } },
  properties: { total: { $ref: '#/$defs/money' } },
};

const spec = specOf([
  event('order.placed', MONEY_SCHEMA, { description: 'An order was placed.', schemaVersion: 2 }),
  event('order.shipped', {
    type: 'object',
    required: ['orderId'],
    properties: { orderId: { type: 'string' } },
  }),
]);

type Doc = {
  openapi: string;
  security: Record<string, unknown>[];
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, Record<string, unknown>>;
    securitySchemes: Record<string, Record<string, unknown>>;
  };
};

describe('buildOpenApi', () => {
  const doc = buildOpenApi(spec) as unknown as Doc;

  it('is an OpenAPI 3.1 document with POST /events and GET /events/{eventId}', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/events']?.post);
    assert.ok(doc.paths['/events/{eventId}']?.get);
  });

  it('offers one request variant per event, discriminated by `event`', () => {
    const entry = doc.components.schemas.PublishEntry as {
      oneOf: { $ref: string }[];
      discriminator: { propertyName: string; mapping: Record<string, string> };
    };
    assert.deepEqual(
      entry.oneOf.map((variant) => variant.$ref),
      ['#/components/schemas/OrderPlacedEvent', '#/components/schemas/OrderShippedEvent'],
    );
    assert.equal(entry.discriminator.propertyName, 'event');
    assert.deepEqual(entry.discriminator.mapping, {
      'order.placed': '#/components/schemas/OrderPlacedEvent',
      'order.shipped': '#/components/schemas/OrderShippedEvent',
    });
    const placed = doc.components.schemas.OrderPlacedEvent as { properties: Record<string, unknown> };
    assert.deepEqual(placed.properties.event, { type: 'string', const: 'order.placed' });
    assert.deepEqual(placed.properties.payload, { $ref: '#/components/schemas/OrderPlaced' });
  });

  it('moves $defs into components and points references at them', () => {
    assert.deepEqual(doc.components.schemas.OrderPlaced?.properties, {
      total: { $ref: '#/components/schemas/OrderPlacedMoney' },
    });
    assert.equal(doc.components.schemas.OrderPlaced?.$defs, undefined);
    assert.ok(doc.components.schemas.OrderPlacedMoney);
  });

  it('validates requests as the API does: a good single event and batch pass, a bad payload fails', () => {
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ ...doc, $id: 'https://example.test/publish-api' } as object);
    const request = ajv.getSchema(
      'https://example.test/publish-api#/paths/~1events/post/requestBody/content/application~1json/schema',
    );
    assert.ok(request);
    assert.equal(request({ event: 'order.placed', payload: { total: { amount: 5 } } }), true);
    assert.equal(
      request({ entries: [{ event: 'order.shipped', payload: { orderId: 'o' }, idempotencyKey: 'k' }] }),
      true,
    );
    assert.equal(request({ event: 'order.placed', payload: { total: { amount: 'five' } } }), false);
    assert.equal(request({ event: 'order.unknown', payload: {} }), false);
  });

  it('declares the security scheme the YAML chooses', () => {
    assert.deepEqual(doc.security, [{ sigv4: [] }]);
    assert.equal(doc.components.securitySchemes.sigv4?.['x-amazon-apigateway-authtype'], 'awsSigv4');
    const apiKey = buildOpenApi(specOf([], { type: 'apiKey' })) as unknown as Doc;
    assert.deepEqual(apiKey.components.securitySchemes.apiKey, {
      type: 'apiKey',
      in: 'header',
      name: 'x-api-key',
      description: 'API key of a usage plan of this API.',
    });
    const jwt = buildOpenApi(
      specOf([], { type: 'jwt', issuer: 'https://id.example.com', audience: ['api'] }),
    ) as unknown as Doc;
    assert.equal(jwt.components.securitySchemes.jwt?.scheme, 'bearer');
  });

  it('is the same document every time', () => {
    assert.equal(JSON.stringify(buildOpenApi(spec)), JSON.stringify(buildOpenApi(spec)));
  });
});
