import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderEventsFile } from '../../lib/codegen/events-file.ts';
import { biomeFormat, event } from './support.ts';

const ORDER_SCHEMA = {
  type: 'object',
  required: ['orderId', 'status', 'lines'],
  additionalProperties: false,
  $defs: {
    money: {
      type: 'object',
      description: 'An amount of money.',
      required: ['amount', 'currency'],
      properties: { amount: { type: 'integer' }, currency: { type: 'string', enum: ['EUR', 'USD'] } },
    },
  },
  properties: {
    orderId: { type: 'string', format: 'uuid', description: 'Order id.\nStable across retries.' },
    status: {
      type: 'string',
      enum: [
        'placed',
        'confirmed',
        'shipped',
        'delivered',
        'cancelled',
        'returned',
        'refunded',
        'lost-in-transit',
      ],
    },
    priority: { enum: [1, 2, 3, null] },
    tags: { type: 'array', items: { type: 'string', enum: ['gift', 'express'] } },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['sku'],
        properties: {
          sku: { type: 'string' },
          qty: { type: 'integer', default: 1 },
          price: { $ref: '#/$defs/money' },
        },
      },
    },
    total: { $ref: '#/$defs/money' },
    note: { type: ['string', 'null'] },
    attributes: { type: 'object', additionalProperties: { type: 'string' } },
    extra: { type: 'object', additionalProperties: true, properties: { a: { type: 'boolean' } } },
    point: { type: 'array', prefixItems: [{ type: 'number' }, { type: 'number' }], items: false },
    anything: {},
    kind: { const: 'order' },
    'weird-key': { type: 'string', deprecated: true },
    choice: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
    "it's": { type: 'string', description: 'A key with a quote' },
  },
};

describe('JSON Schema -> TypeScript', () => {
  const text = renderEventsFile([
    event('order.placed', ORDER_SCHEMA, { description: 'An order was placed.' }),
  ]);

  it('declares one interface per object, required vs optional, nested objects named after their path', () => {
    assert.match(text, /export interface OrderPlaced \{\n/);
    assert.match(text, /\n {2}orderId: string;\n/);
    assert.match(text, /\n {2}lines: OrderPlacedLinesItem\[\];\n/);
    assert.match(text, /export interface OrderPlacedLinesItem \{\n {2}sku: string;\n/);
    assert.match(text, /\n {2}total\?: OrderPlacedMoney;\n/);
  });

  it('maps enums, const, type unions, arrays, tuples, records and anything', () => {
    assert.match(text, /\n {2}priority\?: 1 \| 2 \| 3 \| null;\n/);
    assert.match(text, /\n {2}tags\?: \('gift' \| 'express'\)\[\];\n/);
    assert.match(text, /\n {2}note\?: string \| null;\n/);
    assert.match(text, /\n {2}attributes\?: Record<string, string>;\n/);
    assert.match(text, /\n {2}point\?: \[number, number\];\n/);
    assert.match(text, /\n {2}anything\?: unknown;\n/);
    assert.match(text, /\n {2}kind\?: 'order';\n/);
    assert.match(text, /\n {2}choice\?: string \| number;\n/);
    assert.match(text, /\n {2}"it's"\?: string;\n/);
    assert.match(text, /\n {2}'weird-key'\?: string;\n/);
  });

  it('names a long enum as its own type, laid out one member per line', () => {
    assert.match(text, /\n {2}status: OrderPlacedStatus;\n/);
    assert.match(text, /export type OrderPlacedStatus =\n {2}\| 'placed'\n/);
  });

  it('adds an index signature only where additionalProperties allows extra keys', () => {
    assert.match(
      text,
      /export interface OrderPlacedExtra \{\n {2}a\?: boolean;\n {2}\[key: string\]: unknown;\n\}/,
    );
    const root = text.slice(
      text.indexOf('export interface OrderPlaced {'),
      text.indexOf('\n}\n', text.indexOf('export interface OrderPlaced {')),
    );
    assert.doesNotMatch(root, /\[key: string\]/);
  });

  it('carries descriptions, defaults and deprecation as JSDoc', () => {
    assert.match(
      text,
      /\/\*\*\n \* An order was placed\.\n \*\n \* Payload of `order\.placed` \(schema version 1\)/,
    );
    assert.match(
      text,
      / {2}\/\*\*\n {3}\* Order id\.\n {3}\* Stable across retries\.\n {3}\*\/\n {2}orderId/,
    );
    assert.match(text, / {2}\/\*\* @default 1 \*\/\n {2}qty/);
    assert.match(text, / {2}\/\*\* @deprecated \*\/\n {2}'weird-key'/);
    assert.match(text, /\/\*\* An amount of money\. \*\/\nexport interface OrderPlacedMoney/);
  });

  it('emits the event map, the name type, and schemas and versions as constants', () => {
    assert.match(text, /export interface EventPayloads \{\n {2}'order\.placed': OrderPlaced;\n\}/);
    assert.match(text, /export type EventName = keyof EventPayloads;/);
    assert.match(text, /export const EVENT_SCHEMA_VERSIONS = \{\n {2}'order\.placed': 1,\n\} as const/);
    assert.match(text, /export const EVENT_SCHEMAS = \{\n {2}'order\.placed': \{\n {4}type: 'object',/);
  });

  it('keeps type names unique when two events map to the same name', () => {
    const twice = renderEventsFile([event('a.b', { type: 'string' }), event('a-b', { type: 'number' })]);
    assert.match(twice, /export type AB = string;/);
    assert.match(twice, /export type AB2 = number;/);
  });

  it('produces text the formatter leaves as it is', () => {
    assert.equal(biomeFormat(text), text);
  });
});
