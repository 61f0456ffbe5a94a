/**
 * `event-router validate`, run as a user runs it: through bin/event-router.js.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BASE, edit, HANDLER, project } from './helpers.ts';

const bin = fileURLToPath(new URL('../../bin/event-router.js', import.meta.url));

function validate(args: string[], cwd: string) {
  const run = spawnSync(process.execPath, [bin, 'validate', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('event-router validate', () => {
  it('prints a one-line summary and exits 0 for a valid file in the current directory', () => {
    const dir = project({ 'event-router.yaml': BASE, 'functions/rpcs/order-service/ship-order.ts': HANDLER });
    const run = validate([], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), '✓ event-router.yaml: 1 event, 1 RPC, 1 subscription');
  });

  it('prints every error with file:line:col and its hint, and exits 1', () => {
    const yaml = edit(
      '        description: Ships',
      '        timout: 30s\n        memory: 64\n        description: Ships',
    );
    const dir = project({ 'event-router.yaml': yaml, 'functions/rpcs/order-service/ship-order.ts': HANDLER });
    const run = validate(['event-router.yaml'], dir);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr.trim(),
      [
        'event-router.yaml:7:9: error: Unknown key "timout" in RPC OrderService/ShipOrder.',
        '  hint: Did you mean "timeout"?',
        'event-router.yaml:8:17: error: "memory" (function memory in MB) of RPC OrderService/ShipOrder is 64, outside the allowed range 128..10240.',
        '  hint: Use a value from 128 to 10240.',
        '2 errors, 0 warnings',
      ].join('\n'),
    );
    assert.equal(run.stdout, '');
  });

  it('exits 0 with warnings, printing them before the summary', () => {
    const yaml = `${BASE}  - name: order.cancelled\n    publisher: Checkout\n    schema: { type: object }\n`;
    const dir = project({ 'router.yaml': yaml, 'functions/rpcs/order-service/ship-order.ts': HANDLER });
    const run = validate([join(dir, 'router.yaml')], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /router\.yaml:21:11: warning: Nobody subscribes to event "order\.cancelled"\./);
    assert.match(run.stdout, /0 errors, 1 warning\n✓ router\.yaml: 2 events, 1 RPC, 1 subscription/);
  });

  it('says so in one line when the file does not exist', () => {
    const dir = project({});
    const run = validate(['missing.yaml'], dir);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.match(run.stderr, /missing\.yaml not found/);
  });
});
