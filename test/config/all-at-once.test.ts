/**
 * One bad file: every problem is reported in one pass, in file order, each at its place.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadSpec } from '../../lib/config/load.ts';
import { project, summary, where } from './helpers.ts';

const fixture = fileURLToPath(new URL('./fixtures/many-errors.yaml', import.meta.url));

describe('a file with many mistakes', () => {
  it('reports all of them at once, in file order', () => {
    // The NotifyCardholder handler exists; notify-approver is malformed so its handler is not looked for.
    const dir = project({
      'functions/rpcs/notification-service/notify-cardholder.ts':
        'export const handler = defineRpc(routes);\n',
    });
    const file = join(dir, 'event-router.yaml');
    copyFileSync(fixture, file);
    const source = readFileSync(file, 'utf8');
    const result = loadSpec(file);
    assert.equal(result.spec, undefined);
    const at = (code: string, needle: string, nth = 0) => ({
      code,
      ...where(source, needle, nth),
      severity: 'error',
    });
    assert.deepEqual(summary(result), [
      at('invalid-name', 'Card Flow'),
      at('unknown-key', 'timout'),
      at('out-of-range', '2000s'),
      at('unknown-event', 'card.transaction.authorised'),
      at('malformed-rpc-id', 'notify-approver'),
      at('invalid-url', 'ftp://fraud'),
      at('handler-in-remote', 'handler: functions/x.ts'),
      at('unknown-publisher', 'CardService'),
      at('invalid-schema', 'integr'),
      at('unknown-rpc', 'NotificationService/NotifyCardholdr'),
      at('invalid-filter', '5\n'),
      at('duplicate-event', 'card.transaction.authorized', 1),
    ]);
    for (const d of result.diagnostics) {
      assert.ok(d.hint, `${d.code} has a hint`);
      assert.equal(d.location.file, file);
    }
  });
});
