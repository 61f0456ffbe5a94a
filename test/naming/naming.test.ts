import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kebabCase } from '../../common/case.ts';
import { fitName, splitRpcId } from '../../common/naming.ts';
import { names } from '../../lib/naming.ts';

const ctx = { app: 'cardflow', stage: 'dev' };

describe('naming', () => {
  it('derives every RPC resource name from app, stage, service and method', () => {
    assert.equal(
      names.queueName(ctx, 'NotificationService/NotifyCardholder'),
      'cardflow-dev-notification-service-notify-cardholder',
    );
    assert.equal(
      names.dlqName(ctx, 'NotificationService/NotifyCardholder'),
      'cardflow-dev-notification-service-notify-cardholder-dlq',
    );
    assert.equal(names.serviceStackName(ctx, 'LedgerService'), 'cardflow-dev-ledger-service');
    assert.equal(names.serviceStackName(ctx, 'LedgerService', 1), 'cardflow-dev-ledger-service-2');
  });

  it('kebab-cases acronyms and dots', () => {
    assert.equal(kebabCase('HTTPGateway'), 'http-gateway');
    assert.equal(kebabCase('card.transaction.authorized'), 'card-transaction-authorized');
  });

  it('shortens long names deterministically within the limit', () => {
    const long = `a-${'x'.repeat(100)}`;
    const once = fitName(long, 64);
    assert.equal(once.length, 64);
    assert.equal(fitName(long, 64), once);
    assert.notEqual(fitName(`${long}y`, 64), once);
    const queue = names.queueName(
      { app: 'a'.repeat(30), stage: 'production' },
      `${'S'.repeat(30)}/${'M'.repeat(30)}`,
    );
    assert.ok(
      names.dlqName({ app: 'a'.repeat(30), stage: 'production' }, `${'S'.repeat(30)}/${'M'.repeat(30)}`)
        .length <= 80,
    );
    assert.ok(queue.length <= 76);
  });

  it('rejects a malformed RPC id', () => {
    assert.throws(() => splitRpcId('NoSlash'), /Service\/Method/);
  });
});
