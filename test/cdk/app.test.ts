import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Token } from 'aws-cdk-lib';
import { buildApp, buildRouter } from '../../lib/app.ts';
import { run as synth } from '../../lib/cli/commands/synth.ts';
import { planRouter } from '../../lib/plan/plan.ts';
import { tempOutdir } from '../support/cdk.ts';
import { generateSpec, PROJECT_ROOT } from '../support/specs.ts';

const spec = generateSpec(2, 2, 1);

describe('buildApp', () => {
  it('creates the core stack and one stack per service, named by the convention', () => {
    const app = buildApp(spec, { bundling: 'skip', outdir: tempOutdir() });
    assert.deepEqual(
      app.node.children.map((child) => child.node.id).filter((id) => id.startsWith('testapp')),
      ['testapp-dev-core', 'testapp-dev-service0', 'testapp-dev-service1'],
    );
  });

  it('builds from a plan the caller already made instead of planning again', () => {
    // Given a plan made with a budget the app would not use by default
    const planned = planRouter(spec, { stackResourceBudget: 15 });

    // When the app is built from it
    const router = buildRouter(spec, { planned, bundling: 'skip', outdir: tempOutdir() });

    // Then it is that plan, and its stacks are the ones declared
    assert.equal(router.plan, planned);
    assert.deepEqual(
      router.serviceStacks.map((stack) => stack.stackName),
      planned.stacks.map((stack) => stack.stackName),
    );
    assert.ok(planned.stacks.length > planRouter(spec).stacks.length);
  });

  it('is environment-agnostic unless CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION are set', () => {
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    try {
      delete process.env.CDK_DEFAULT_ACCOUNT;
      delete process.env.CDK_DEFAULT_REGION;
      const agnostic = buildRouter(spec, { bundling: 'skip', outdir: tempOutdir() });
      assert.ok(Token.isUnresolved(agnostic.coreStack.account));
      process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
      process.env.CDK_DEFAULT_REGION = 'eu-west-1';
      const pinned = buildRouter(spec, { bundling: 'skip', outdir: tempOutdir() });
      assert.equal(pinned.coreStack.account, '123456789012');
      assert.equal(pinned.serviceStacks[0]?.region, 'eu-west-1');
    } finally {
      for (const [key, value] of [
        ['CDK_DEFAULT_ACCOUNT', saved.account],
        ['CDK_DEFAULT_REGION', saved.region],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});

describe('bin/app.ts (the app cdk.json runs)', () => {
  it('synthesizes the example router with every worker bundled, cdk-nag and template validation clean', () => {
    // Given the example router and an empty output directory
    const outdir = join(tempOutdir('er-app-'), 'cdk.out');

    // When the app runs as the CDK CLI runs it (default bundler: prebundle with the local esbuild)
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bin/app.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, EVENT_ROUTER_FILE: join(PROJECT_ROOT, 'event-router.yaml'), CDK_OUTDIR: outdir },
      encoding: 'utf8',
    });

    // Then every function of every stack has its bundled code in the assembly
    assert.equal(result.status, 0, result.stderr);
    const templates = readdirSync(outdir).filter((file) => file.endsWith('.template.json'));
    assert.ok(templates.includes('cardflow-dev-core.template.json'));
    let functions = 0;
    for (const file of templates) {
      const template = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as {
        Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
      };
      for (const resource of Object.values(template.Resources)) {
        if (resource.Type !== 'AWS::Lambda::Function') continue;
        functions += 1;
        const asset = resource.Metadata?.['aws:asset:path'];
        assert.ok(asset && existsSync(join(outdir, asset, 'index.mjs')), `${file}: no bundle for a function`);
      }
    }
    assert.ok(functions >= 9, `expected a worker per example RPC, found ${functions} functions`);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: unknown[];
    };
    assert.deepEqual(report.pluginReports, []);
  });

  it('prints the diagnostics and writes nothing when the router file has errors', () => {
    // Given a router file with an unknown key
    const dir = tempOutdir('er-bad-');
    const file = join(dir, 'event-router.yaml');
    writeFileSync(file, 'app:\n  name: broken\n  stgae: dev\nservices: {}\nevents: []\n');
    const outdir = join(dir, 'cdk.out');

    // When the app runs as the CDK CLI would run it
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bin/app.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, EVENT_ROUTER_FILE: file, CDK_OUTDIR: outdir },
      encoding: 'utf8',
    });

    // Then it fails with the position of the problem, before creating anything
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /event-router\.yaml:3:3: error: .*stgae/);
    assert.match(result.stderr, /nothing was synthesized/);
    assert.equal(existsSync(outdir), false);
  });
});

describe('event-router synth', () => {
  it('validates and synthesizes the example router, printing each stack and its resources', async () => {
    const outdir = tempOutdir('er-synth-');
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => lines.push(args.join(' '));
    let code: number;
    try {
      code = await synth([join(PROJECT_ROOT, 'event-router.yaml'), '--out', outdir, '--bundler', 'skip']);
    } finally {
      console.log = log;
    }
    assert.equal(code, 0);
    const output = lines.join('\n');
    assert.match(output, /cardflow-dev-core\s+\d+/);
    assert.match(output, /cardflow-dev-ledger-service\s+\d+/);
    assert.match(output, /\d+ stacks, \d+ resources/);
    assert.ok(readdirSync(outdir).includes('cardflow-dev-core.template.json'));
  });

  it('exits 1 and writes nothing for a file with errors', async () => {
    const dir = tempOutdir('er-bad-');
    const file = join(dir, 'event-router.yaml');
    writeFileSync(file, 'app: {}\n');
    const outdir = join(dir, 'out');
    const error = console.error;
    console.error = () => {};
    try {
      assert.equal(await synth([file, '--out', outdir, '--bundler', 'skip']), 1);
    } finally {
      console.error = error;
    }
    assert.equal(existsSync(outdir), false);
  });
});
