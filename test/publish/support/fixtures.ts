/** Schemas and configuration shared by the publish tests. */
import { BUNDLE_DEFINES, ENV } from '../../../common/contracts.ts';
import { PayloadValidator } from '../../../common/payload-schema.ts';
import { PUBLISHERS_DEFINE, type PublisherDirectory } from '../../../common/publishers.ts';
import { loadPublishConfig } from '../../../functions/publish/config.ts';
import type { PublishDependencies } from '../../../functions/publish/handler.ts';
import type { LocalDynamo } from '../../support/dynalite.ts';
import type { EventBridgeStub } from './eventbridge-stub.ts';

/** The role the card network's gateway signs with (an assumed-role session of it). */
export const CARD_NETWORK_CALLER = 'arn:aws:sts::123456789012:assumed-role/card-network-gateway/session-1';
/** The mobile backend's role: a declared publisher, but not of the card events. */
export const MOBILE_CALLER = 'arn:aws:sts::123456789012:assumed-role/mobile-backend/session-2';

/** The publishers the API serves in these tests (as the PublishApi construct compiles them in). */
export const PUBLISHERS: PublisherDirectory = {
  publishers: [
    {
      name: 'CardNetwork',
      source: 'event-router.cardflow.card-network',
      events: ['card.transaction.authorized', 'card.transaction.settled'],
      identity: { kind: 'iam', principal: 'arn:aws:iam::123456789012:role/card-network-*' },
    },
    {
      name: 'MobileApp',
      source: 'event-router.cardflow.mobile-app',
      events: ['receipt.uploaded'],
      identity: { kind: 'iam', principal: 'arn:aws:iam::123456789012:role/mobile-backend' },
    },
  ],
  eventPublishers: {
    'card.transaction.authorized': ['CardNetwork'],
    'card.transaction.settled': ['CardNetwork'],
    'receipt.uploaded': ['MobileApp'],
  },
};

export const CARD_AUTHORIZED_SCHEMA = {
  type: 'object',
  required: ['transactionId', 'amount', 'currency', 'merchant'],
  additionalProperties: false,
  properties: {
    transactionId: { type: 'string', minLength: 1 },
    amount: { type: 'integer', minimum: 0 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    merchant: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, country: { type: 'string' } },
    },
    note: { type: 'string' },
  },
};

export const SETTLED_SCHEMA = {
  type: 'object',
  required: ['transactionId'],
  properties: { transactionId: { type: 'string' } },
};

export const VALID_PAYLOAD = {
  transactionId: 't-1',
  amount: 1250,
  currency: 'EUR',
  merchant: { name: 'Cafe' },
};

/** Environment as the PublishApi construct sets it (schemas via the define's env fallback). */
export function publishEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    [ENV.app]: 'cardflow',
    [ENV.eventBus]: 'cardflow-dev-bus',
    [ENV.deliveriesTable]: 'cardflow-dev-deliveries',
    [BUNDLE_DEFINES.eventSchemas]: JSON.stringify({
      'card.transaction.authorized': { ...CARD_AUTHORIZED_SCHEMA, 'x-schema-version': 2 },
      'card.transaction.settled': SETTLED_SCHEMA,
    }),
    [ENV.subscriptions]: JSON.stringify({
      'card.transaction.authorized': [
        'NotificationService/NotifyCardholder',
        'LedgerService/RecordTransaction',
      ],
      'card.transaction.settled': ['LedgerService/SettleTransaction'],
    }),
    // NotifyCardholder only receives events matching its content filter.
    ER_FILTERED_SUBSCRIPTIONS: JSON.stringify({
      'card.transaction.authorized': ['NotificationService/NotifyCardholder'],
    }),
    [PUBLISHERS_DEFINE]: JSON.stringify(PUBLISHERS),
    ...overrides,
  };
}

/**
 * The publish function's dependencies for a test: the configuration of publishEnv(), the given
 * EventBridge stub and DynamoDB (dynalite), a silent logger; `more` replaces any of them.
 */
export function publishDependencies(
  stub: EventBridgeStub,
  dynamo: LocalDynamo,
  more: Partial<PublishDependencies> = {},
): PublishDependencies {
  const config = loadPublishConfig(publishEnv());
  return {
    config,
    eventBridge: stub.client(),
    dynamo: dynamo.doc,
    validator: new PayloadValidator(config.schemas),
    logger: { info() {}, warn() {}, error() {} },
    ...more,
  };
}
