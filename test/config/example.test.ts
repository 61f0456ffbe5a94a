/**
 * The example router in the repository loads with no error and no warning, and means what its
 * comments say once every default is applied.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadSpec } from '../../lib/config/load.ts';
import type { RouterSpec } from '../../lib/config/types.ts';
import { HANDLER, project } from './helpers.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const example = join(projectRoot, 'event-router.yaml');

const RPCS = [
  'NotificationService/NotifyCardholder',
  'NotificationService/NotifyApprover',
  'NotificationService/NotifySubmitter',
  'ReceiptService/RequestReceipt',
  'ReceiptService/LinkReceipt',
  'LedgerService/RecordTransaction',
  'LedgerService/SettleTransaction',
  'ApprovalService/RequestApproval',
  'ReimbursementService/ScheduleReimbursement',
  'ReportingService/UpdateSpendSummary',
];

/** A copy of the example beside stub handlers, so the model is checked apart from the real handlers. */
function loadCopy(): RouterSpec {
  const files: Record<string, string> = {};
  for (const id of RPCS) {
    const [service = '', method = ''] = id.split('/');
    const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
    files[`functions/rpcs/${kebab(service)}/${kebab(method)}.ts`] = HANDLER;
  }
  const dir = project(files);
  copyFileSync(example, join(dir, 'event-router.yaml'));
  const result = loadSpec(join(dir, 'event-router.yaml'));
  assert.deepEqual(result.diagnostics, []);
  assert.ok(result.spec);
  return result.spec;
}

describe('the example event-router.yaml', () => {
  it('loads in place, handlers included, with no error and no warning', () => {
    const result = loadSpec(example);
    assert.deepEqual(result.diagnostics, []);
    assert.ok(result.spec);
    assert.equal(result.spec.file, example);
    assert.equal(result.spec.rootDir, projectRoot.replace(/\/$/, ''));
  });

  it('has its app settings with defaults applied', () => {
    const spec = loadCopy();
    assert.deepEqual(spec.app, {
      name: 'cardflow',
      stage: 'dev',
      archiveRetentionDays: 30,
      // 4d queue + 14d DLQ + 1 day
      dedupRetentionSeconds: 19 * 86400,
      publishApi: { auth: { type: 'iam' }, rateLimit: 100, burstLimit: 200 },
    });
  });

  it('has every RPC with its handler path and merged settings', () => {
    const spec = loadCopy();
    const rpcs = spec.services.flatMap((s) => s.rpcs);
    assert.deepEqual(
      rpcs.map((r) => r.id),
      RPCS,
    );
    const byId = new Map(rpcs.map((r) => [r.id, r]));
    const cardholder = byId.get('NotificationService/NotifyCardholder');
    assert.deepEqual(cardholder?.target, {
      kind: 'handler',
      handler: 'functions/rpcs/notification-service/notify-cardholder.ts',
    });
    assert.deepEqual(cardholder?.settings, {
      timeoutSeconds: 10,
      memoryMb: 256,
      batchSize: 10,
      batchingWindowSeconds: 0,
      maxConcurrency: 5,
      maxReceiveCount: 5,
      queueRetentionSeconds: 4 * 86400,
      dlqRetentionSeconds: 14 * 86400,
      alarmErrorRatePercent: 10,
      alarmMinInvocations: 10,
    });
    assert.equal(byId.get('ReimbursementService/ScheduleReimbursement')?.settings.maxReceiveCount, 10);
    assert.equal(byId.get('ReimbursementService/ScheduleReimbursement')?.settings.timeoutSeconds, 60);
    assert.equal(byId.get('ReportingService/UpdateSpendSummary')?.settings.batchSize, 50);
    assert.equal(byId.get('ReportingService/UpdateSpendSummary')?.settings.batchingWindowSeconds, 5);
    assert.deepEqual(byId.get('LedgerService/RecordTransaction')?.publishes, ['ledger.entry.recorded']);
    assert.equal(byId.get('LedgerService/RecordTransaction')?.settings.maxConcurrency, 2);
  });

  it('has its events, schemas and flattened subscriptions', () => {
    const spec = loadCopy();
    assert.deepEqual(
      spec.events.map((e) => [e.name, e.publisher, e.schemaVersion]),
      [
        ['card.transaction.authorized', 'CardNetwork', 1],
        ['card.transaction.settled', 'CardNetwork', 1],
        ['receipt.uploaded', 'MobileApp', 1],
        ['expense.report.submitted', 'ExpenseTool', 1],
        ['expense.report.approved', 'ApprovalService', 1],
        ['ledger.entry.recorded', 'LedgerService/RecordTransaction', 1],
      ],
    );
    assert.equal(spec.events[0]?.schema.additionalProperties, false);
    assert.equal(spec.subscriptions.length, 10);
    const receipt = spec.subscriptions.find((s) => s.rpc === 'ReceiptService/RequestReceipt');
    assert.deepEqual(receipt?.filter, { payload: { amount: [{ numeric: ['>=', 7500] }] } });
    assert.equal(receipt?.event, 'card.transaction.authorized');
    assert.ok((receipt?.location.line ?? 0) > 1);
  });
});
