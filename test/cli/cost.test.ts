/** `event-router cost` on the example router: what it prints and how it answers bad options. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { run } from '../../lib/cli/commands/cost.ts';
import type { CostReport } from '../../lib/cost/index.ts';
import { PROJECT_ROOT } from '../support/specs.ts';

const ROUTER = join(PROJECT_ROOT, 'event-router.yaml');

/** Runs the command and returns its exit code and what it printed. */
async function cost(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...parts: unknown[]) => out.push(parts.join(' ')));
  const error = mock.method(console, 'error', (...parts: unknown[]) => err.push(parts.join(' ')));
  try {
    const code = await run(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

describe('event-router cost', () => {
  it('prints per event, per RPC and per month, with the dated prices it used', async () => {
    const { code, out } = await cost(ROUTER, '--rate', '50');
    assert.equal(code, 0);
    assert.match(
      out,
      /^Cost of cardflow-dev at 50 events\/s \(129,600,000 events a month\), us-east-1 list prices as of \d{4}-\d{2}-\d{2}/,
    );
    // card.transaction.authorized: the publish API, its own PutEvents and RecordTransaction's follow-up
    assert.match(out, /\ncard\.transaction\.authorized +10 +1 +2 +4 /);
    assert.match(out, /\nReportingService\/UpdateSpendSummary +10 +10 +256 /);
    assert.match(out, /\nPer month: \$[\d,.]+ \(idle polling/);
  });

  it('gives the whole report as JSON, restricted to the events asked for', async () => {
    const { code, out } = await cost(
      ROUTER,
      '--format',
      'json',
      '--event',
      'receipt.uploaded',
      '--publish',
      'direct',
    );
    assert.equal(code, 0);
    const report = JSON.parse(out) as CostReport;
    assert.deepEqual(
      report.events.map((e) => e.event),
      ['receipt.uploaded'],
    );
    assert.equal(report.events[0]?.requests.apiRequests, 0);
    assert.deepEqual(report.events[0]?.deliveries, { 'ReceiptService/LinkReceipt': 1 });
    assert.equal(report.rate, 10);
  });

  it('uses the prices and assumptions of a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'er-cost-'));
    try {
      const file = join(dir, 'prices.json');
      writeFileSync(
        file,
        JSON.stringify({ prices: { asOf: '2030-01-01' }, assumptions: { invocationMs: 400 } }),
      );
      const base = JSON.parse((await cost(ROUTER, '--format', 'json')).out) as CostReport;
      const { code, out } = await cost(ROUTER, '--format', 'json', '--prices', file);
      assert.equal(code, 0);
      const slow = JSON.parse(out) as CostReport;
      assert.equal(slow.prices.asOf, '2030-01-01');
      assert.ok((slow.events[0]?.perMillion.lambda ?? 0) > (base.events[0]?.perMillion.lambda ?? 0));

      writeFileSync(file, JSON.stringify({ prices: { sqsRequestsPerMillion: 'cheap' } }));
      const bad = await cost(ROUTER, '--prices', file);
      assert.equal(bad.code, 1);
      assert.match(bad.err, /prices\.sqsRequestsPerMillion is "cheap"; use a number >= 0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers bad options with every problem and the usage', async () => {
    const { code, err } = await cost(ROUTER, '--rate', 'lots', '--format', 'xml');
    assert.equal(code, 2);
    assert.match(err, /--rate is "lots"; give a number of 0 or more/);
    assert.match(err, /--format is "xml"; use text or json/);
    assert.match(err, /Usage: event-router cost/);
  });

  it('names the events that exist when asked about one that does not', async () => {
    const { code, err } = await cost(ROUTER, '--event', 'card.swiped');
    assert.equal(code, 1);
    assert.match(
      err,
      /No rule matches "card\.swiped"; events with subscribers: .*card\.transaction\.authorized/,
    );
  });
});
