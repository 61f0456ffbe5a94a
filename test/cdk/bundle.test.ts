import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { prebundleWorkers } from '../../lib/constructs/prebundle.ts';
import { WORKER_BUNDLE } from '../../lib/constructs/router-function.ts';
import { planRouter } from '../../lib/plan/plan.ts';
import { buildForTest, tempOutdir } from '../support/cdk.ts';
import { makeSpec } from '../support/specs.ts';

const spec = makeSpec({
  rpcs: [{ id: 'Ledger/Record' }],
  subscriptions: [
    { event: 'card.used', rpc: 'Ledger/Record' },
    { event: "it's.$pecial$&$'", rpc: 'Ledger/Record' },
  ],
});

/** Asserts what every worker bundle must look like, then runs it. */
async function checkBundle(dir: string): Promise<void> {
  const file = join(dir, 'index.mjs');
  assert.ok(existsSync(file), `no index.mjs in ${dir}`);
  assert.ok(existsSync(`${file}.map`), 'no source map');
  const code = readFileSync(file, 'utf8');
  assert.ok(code.startsWith(WORKER_BUNDLE.banner), 'the require shim banner comes first');
  assert.match(code, /import\("@aws-sdk\/client-sqs"\)/, '@aws-sdk stays external');
  assert.ok(code.length < 20_000, `bundle unexpectedly large: ${code.length} bytes`);
  assert.ok(code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map'));
  // The source map points at the real sources from where the bundle lies.
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
  assert.ok(map.sources.some((source) => source.endsWith('test/support/fixtures/handler.ts')));
  for (const source of map.sources)
    assert.ok(existsSync(join(dir, source)), `source map entry ${source} not found`);
  // The bundle is an ES module whose handler works and knows its events from the compiled-in schemas.
  const mod = (await import(pathToFileURL(file).href)) as {
    handler: (event: { Records: unknown[] }) => Promise<unknown>;
    eventNames: string[];
  };
  assert.deepEqual(mod.eventNames, ['card.used', "it's.$pecial$&$'"]);
  assert.deepEqual(await mod.handler({ Records: [] }), { batchItemFailures: [] });
}

describe('worker bundling (offline, local esbuild)', () => {
  it('bundles a worker through the CDK with the house settings', async () => {
    const router = buildForTest(spec, { bundling: 'esbuild', nag: false });
    const assembly = router.app.synth();
    const artifact = assembly.getStackByName('testapp-dev-ledger');
    const fn = Object.values(
      artifact.template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>,
    ).find((resource) => resource.Type === 'AWS::Lambda::Function');
    const assetPath = fn?.Metadata?.['aws:asset:path'];
    assert.ok(assetPath, 'the function names its asset');
    await checkBundle(join(assembly.directory, assetPath));
  });

  it('prebundles every worker in parallel, sharing identical bundles, and the app uses them', async () => {
    const twoAlike = makeSpec({
      rpcs: [{ id: 'Ledger/Record' }, { id: 'Ledger/Audit' }, { id: 'Other/One' }],
      subscriptions: [
        { event: 'card.used', rpc: 'Ledger/Record' },
        { event: "it's.$pecial$&$'", rpc: 'Ledger/Record' },
        { event: 'card.used', rpc: 'Ledger/Audit' },
        { event: "it's.$pecial$&$'", rpc: 'Ledger/Audit' },
        { event: 'other.thing', rpc: 'Other/One' },
      ],
    });
    const plan = planRouter(twoAlike);
    const { dirs, bundles } = await prebundleWorkers(plan, { outDir: tempOutdir('er-bundles-') });
    assert.equal(bundles, 2);
    assert.equal(dirs.get('Ledger/Record'), dirs.get('Ledger/Audit'));
    await checkBundle(dirs.get('Ledger/Record') as string);

    const router = buildForTest(twoAlike, { bundling: 'esbuild', nag: false, prebuilt: dirs });
    const assembly = router.app.synth();
    const assets = readFileSync(join(assembly.directory, 'testapp-dev-ledger.assets.json'), 'utf8');
    const files = Object.values(
      (JSON.parse(assets) as { files: Record<string, { source: { packaging: string } }> }).files,
    );
    // Two functions, one code asset (besides the template itself).
    assert.equal(files.filter((file) => file.source.packaging === 'zip').length, 1);
  });
});
