import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generate, staleFiles, writeGenerated } from '../../lib/codegen/index.ts';
import { loadRouterSpec } from '../../lib/codegen/spec.ts';
import type { RouterSpec } from '../../lib/config/types.ts';
import { biomeFormat, PROJECT_ROOT, tempDir, typecheck } from './support.ts';

function exampleSpec(): RouterSpec {
  const loaded = loadRouterSpec(join(PROJECT_ROOT, 'event-router.yaml'));
  if (!loaded.spec) throw new Error(loaded.errors);
  return loaded.spec;
}

function cli(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'event-router.js'), ...args], {
    cwd,
    encoding: 'utf8',
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('codegen output', () => {
  it('is byte-for-byte the same on every run', () => {
    const a = generate(exampleSpec(), join(PROJECT_ROOT, 'generated'));
    const b = generate(exampleSpec(), join(PROJECT_ROOT, 'generated'));
    assert.deepEqual(
      a.map((file) => file.path),
      ['events.ts', 'publisher.ts', 'rpc.ts', 'openapi.json'],
    );
    assert.deepEqual(a, b);
  });

  it('matches the committed generated/ files', () => {
    assert.deepEqual(
      staleFiles(generate(exampleSpec(), join(PROJECT_ROOT, 'generated')), join(PROJECT_ROOT, 'generated')),
      [],
    );
  });

  it('is formatted as the formatter would format it', () => {
    for (const file of generate(exampleSpec(), join(PROJECT_ROOT, 'generated')).filter((f) =>
      f.path.endsWith('.ts'),
    ))
      assert.equal(biomeFormat(file.content), file.content, `${file.path} is not formatted`);
  });
});

describe('event-router codegen --check', () => {
  let temp: ReturnType<typeof tempDir>;
  before(() => {
    temp = tempDir('codegen-cli');
    copyFileSync(join(PROJECT_ROOT, 'event-router.yaml'), join(temp.dir, 'event-router.yaml'));
  });
  after(() => temp.remove());

  it('fails while files are missing, passes once written, fails again when one is edited', () => {
    const missing = cli(['codegen', '--check'], temp.dir);
    assert.equal(missing.code, 1);
    assert.match(missing.out, /generated\/events\.ts/);
    assert.match(missing.out, /npx event-router codegen/);

    const written = cli(['codegen'], temp.dir);
    assert.equal(written.code, 0, written.out);
    assert.equal(cli(['codegen', '--check'], temp.dir).code, 0);

    const file = join(temp.dir, 'generated', 'events.ts');
    writeFileSync(file, `${readFileSync(file, 'utf8')}// edited\n`);
    const stale = cli(['codegen', '--check'], temp.dir);
    assert.equal(stale.code, 1);
    assert.match(stale.out, /events\.ts/);
    assert.doesNotMatch(stale.out, /publisher\.ts/);
  });

  it('reports YAML problems with their location and exits 1', () => {
    writeFileSync(join(temp.dir, 'broken.yaml'), 'app: { name: demo }\nevents: 12\n');
    const result = cli(['codegen', '--file', 'broken.yaml'], temp.dir);
    assert.equal(result.code, 1);
    assert.match(result.out, /broken\.yaml:\d+:\d+/);
  });
});

describe('generated types', () => {
  let temp: ReturnType<typeof tempDir>;
  before(() => {
    temp = tempDir('codegen-tsc');
    writeGenerated(generate(exampleSpec(), join(temp.dir, 'generated')), join(temp.dir, 'generated'));
  });
  after(() => temp.remove());

  const prelude = `import type { EventPayloads } from './generated/events.ts';
import { createPublisher } from './generated/publisher.ts';
const events = createPublisher({ busName: 'bus', publisher: 'CardNetwork' });
`;

  it('accept a correct payload', () => {
    writeFileSync(
      join(temp.dir, 'good.ts'),
      `${prelude}const payload: EventPayloads['card.transaction.authorized'] = {
  transactionId: 't', cardId: 'c', cardholderId: 'h', amount: 100, currency: 'EUR',
  merchant: { name: 'Cafe', category: '5814' },
};
export const sent = events.publish('card.transaction.authorized', payload, { idempotencyKey: 'k' });
export const settled = events.publish('card.transaction.settled', { transactionId: 't', settledAmount: 1, currency: 'EUR' });
`,
    );
    const result = typecheck(temp.dir, ['good.ts']);
    assert.equal(result.code, 0, result.output);
  });

  it('refuse a wrong payload, a missing field, an extra field and an unknown event', () => {
    writeFileSync(
      join(temp.dir, 'bad.ts'),
      `${prelude}export const a = events.publish('card.transaction.settled', { transactionId: 1, settledAmount: 1, currency: 'EUR' });
export const b = events.publish('card.transaction.settled', { transactionId: 't', currency: 'EUR' });
export const c = events.publish('receipt.uploaded', { receiptId: 'r', transactionId: 't', objectKey: 'k', colour: 'red' });
export const d = events.publish('card.transaction.authorised', {});
`,
    );
    const result = typecheck(temp.dir, ['bad.ts']);
    assert.notEqual(result.code, 0);
    const lines = new Set(
      [...result.output.matchAll(/bad\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1])),
    );
    // prelude is 3 lines: the publishes are lines 4..7, each must fail
    assert.deepEqual([...lines].sort(), [4, 5, 6, 7], result.output);
  });
});
