/**
 * The small parts of the loader: durations, suggestions, handler export detection, output format.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editDistance } from '../../common/edit-distance.ts';
import { formatDiagnostics, summarize } from '../../lib/config/diagnostics.ts';
import { formatDuration, parseDuration } from '../../lib/config/durations.ts';
import { exportsHandler, missingHandlerHint } from '../../lib/config/handler-exports.ts';
import { closest } from '../../lib/config/suggest.ts';
import type { Diagnostic } from '../../lib/config/types.ts';

describe('durations', () => {
  it('reads seconds and units', () => {
    assert.deepEqual(parseDuration(30), { seconds: 30 });
    assert.deepEqual(parseDuration('30s'), { seconds: 30 });
    assert.deepEqual(parseDuration('5m'), { seconds: 300 });
    assert.deepEqual(parseDuration('12h'), { seconds: 43200 });
    assert.deepEqual(parseDuration('4d'), { seconds: 345600 });
  });

  it('rejects what is not a whole duration', () => {
    for (const bad of ['30 seconds', '1.5h', '-1s', '', 'm', 1.5, -3, true]) {
      assert.ok('error' in parseDuration(bad), `${String(bad)} should be rejected`);
    }
  });

  it('formats in the largest whole unit', () => {
    assert.equal(formatDuration(1209600), '14d');
    assert.equal(formatDuration(900), '15m');
    assert.equal(formatDuration(90), '90s');
    assert.equal(formatDuration(7200), '2h');
  });
});

describe('suggestions', () => {
  it('measures edits', () => {
    assert.equal(editDistance('timout', 'timeout'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });

  it('suggests close names only', () => {
    assert.equal(closest('timout', ['timeout', 'memory']), 'timeout');
    assert.equal(closest('MaxConcurrency', ['maxConcurrency', 'batchSize']), 'maxConcurrency');
    assert.equal(closest('retries', ['timeout', 'memory']), undefined);
  });
});

describe('handler export detection', () => {
  const exporting = [
    'export const handler = async () => {};',
    'export let handler: Handler = async () => {};',
    'export async function handler(event) {}',
    'export function handler<T>(event: T) {}',
    'const run = () => 1;\nexport { run as handler };',
    'function handler() {}\nexport { handler };',
    "export { handler } from './impl.ts';",
    "export { other, impl as handler } from './impl.ts';",
    'export const handler = defineRpc("a.b", async () => ({}));',
  ];
  for (const source of exporting) {
    it(`finds: ${source.split('\n').pop()}`, () => assert.equal(exportsHandler(source), true));
  }

  const notExporting = [
    'export default async function handler() {}',
    'const handler = () => 1;',
    '// export const handler = 1;',
    '/* export function handler() {} */',
    "const text = 'export const handler = 1';",
    'export type { handler } from "./t.ts";',
    'export const handlers = [];',
    'export { handler as main };',
  ];
  for (const source of notExporting) {
    it(`rejects: ${source}`, () => assert.equal(exportsHandler(source), false));
  }

  it('explains a default export', () => {
    assert.match(missingHandlerHint('export default () => 1;'), /default export/);
    assert.match(missingHandlerHint("export * from './x.ts';"), /export \*/);
  });
});

describe('formatDiagnostics', () => {
  const diagnostics: Diagnostic[] = [
    {
      severity: 'error',
      location: { file: '/work/app/event-router.yaml', line: 12, col: 7 },
      message: 'Unknown key "timout" in RPC A/B.',
      hint: 'Did you mean "timeout"?',
      code: 'unknown-key',
    },
    {
      severity: 'warning',
      location: { file: '/work/app/event-router.yaml', line: 40, col: 3 },
      message: 'Nobody subscribes to event "a.b".',
      code: 'unsubscribed-event',
    },
  ];

  it('prints file:line:col, severity, message and an indented hint, then a summary', () => {
    assert.equal(
      formatDiagnostics(diagnostics, { cwd: '/work/app' }),
      [
        'event-router.yaml:12:7: error: Unknown key "timout" in RPC A/B.',
        '  hint: Did you mean "timeout"?',
        'event-router.yaml:40:3: warning: Nobody subscribes to event "a.b".',
        '1 error, 1 warning',
      ].join('\n'),
    );
  });

  it('keeps absolute paths outside the working directory and can colour severities', () => {
    const text = formatDiagnostics(diagnostics, { cwd: '/elsewhere', color: true, summary: false });
    assert.ok(
      text.startsWith('/work/app/event-router.yaml:12:7: \u001b[31merror\u001b[0m: Unknown key'),
      text,
    );
    assert.doesNotMatch(text, /1 error/);
  });

  it('pluralizes the summary', () => {
    assert.equal(summarize([]), '0 errors, 0 warnings');
  });
});
