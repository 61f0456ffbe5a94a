import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { RouterCore } from '../../lib/constructs/router-core.ts';
import { RouterFunction, type RouterFunctionProps } from '../../lib/constructs/router-function.ts';
import { routerRefs } from '../../lib/constructs/router-refs.ts';
import { RpcWorker } from '../../lib/constructs/rpc-worker.ts';
import { SubscriptionRule } from '../../lib/constructs/subscription-rule.ts';
import { InvalidPropsError } from '../../lib/constructs/validation.ts';
import { planRouter } from '../../lib/plan/plan.ts';
import type { RpcPlan, RulePlan } from '../../lib/plan/types.ts';
import { buildForTest } from '../support/cdk.ts';
import { FIXTURE_HANDLER, makeSpec, PROJECT_ROOT } from '../support/specs.ts';

const entry = join(PROJECT_ROOT, FIXTURE_HANDLER);
const plan = planRouter(
  makeSpec({
    rpcs: Array.from({ length: 6 }, (_, i) => ({ id: `S/M${i}` })),
    subscriptions: Array.from({ length: 6 }, (_, i) => ({ event: 'e.happened', rpc: `S/M${i}` })),
  }),
);
const baseRpc = plan.rpcs[0] as RpcPlan;

function freshStack(name = 'Test'): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, name);
}

/** Runs `build` and returns the problems of the InvalidPropsError it throws. */
function problemsOf(build: () => void): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof InvalidPropsError) return error.problems;
    throw error;
  }
  assert.fail('expected an InvalidPropsError');
}

function fnProblems(props: Partial<RouterFunctionProps>): readonly string[] {
  return problemsOf(() => new RouterFunction(freshStack(), 'Fn', { entry, ...props }));
}

function workerProblems(change: (rpc: RpcPlan) => RpcPlan): readonly string[] {
  const stack = freshStack();
  return problemsOf(
    () =>
      new RpcWorker(stack, 'W', {
        rpc: change(baseRpc),
        names: plan.names,
        refs: routerRefs(stack, plan.core),
        recordRetentionSeconds: 86400,
      }),
  );
}

const withSettings = (settings: Partial<RpcPlan['settings']>) => (rpc: RpcPlan) => ({
  ...rpc,
  settings: { ...rpc.settings, ...settings },
});

describe('RouterFunction validation', () => {
  it('rejects a timeout outside 1..900 s', () => {
    assert.match(fnProblems({ timeout: Duration.seconds(901) }).join('\n'), /timeout is 901 s/);
  });
  it('rejects memory outside 128..10240 MB', () => {
    assert.match(fnProblems({ memorySize: 64 }).join('\n'), /memorySize is 64 MB/);
  });
  it('rejects a constant that is not an identifier', () => {
    assert.match(
      fnProblems({ constants: { 'not-an-id': 'x' } }).join('\n'),
      /"not-an-id" is not a JavaScript identifier/,
    );
  });
  it('rejects NODE_OPTIONS in the environment', () => {
    assert.match(fnProblems({ environment: { NODE_OPTIONS: '--x' } }).join('\n'), /NODE_OPTIONS/);
  });
  it('reports every problem at once', () => {
    assert.equal(fnProblems({ timeout: Duration.seconds(901), memorySize: 64 }).length, 2);
  });
});

describe('RpcWorker validation', () => {
  const cases: [string, (rpc: RpcPlan) => RpcPlan, RegExp][] = [
    ['timeout', withSettings({ timeoutSeconds: 0 }), /settings\.timeoutSeconds is 0 s/],
    ['memory', withSettings({ memoryMb: 100 }), /settings\.memoryMb is 100 MB/],
    ['batch size', withSettings({ batchSize: 10001 }), /settings\.batchSize is 10001/],
    [
      'batching window',
      withSettings({ batchingWindowSeconds: 301 }),
      /settings\.batchingWindowSeconds is 301 s/,
    ],
    ['max concurrency', withSettings({ maxConcurrency: 1 }), /settings\.maxConcurrency is 1;/],
    ['max receive count', withSettings({ maxReceiveCount: 1001 }), /settings\.maxReceiveCount is 1001/],
    [
      'queue retention',
      withSettings({ queueRetentionSeconds: 59 }),
      /settings\.queueRetentionSeconds is 59 s/,
    ],
    [
      'DLQ retention',
      withSettings({ dlqRetentionSeconds: 1209601 }),
      /settings\.dlqRetentionSeconds is 1209601 s/,
    ],
    [
      'batch over 10 without a window',
      withSettings({ batchSize: 50, batchingWindowSeconds: 0 }),
      /batching window of at least 1 s/,
    ],
    [
      'visibility below 6 x timeout',
      (rpc) => ({ ...rpc, visibilityTimeoutSeconds: 100 }),
      /below 6 x the function timeout/,
    ],
    ['visibility over 12 h', (rpc) => ({ ...rpc, visibilityTimeoutSeconds: 43201 }), /over SQS's maximum/],
    [
      'remote timeout not below the function timeout',
      (rpc) => ({ ...rpc, runner: { kind: 'remote', url: 'https://x', timeoutMs: 30000 } }),
      /runner\.timeoutMs is 30000 ms/,
    ],
  ];
  for (const [name, change, expected] of cases) {
    it(`rejects: ${name}`, () => {
      assert.match(workerProblems(change).join('\n'), expected);
    });
  }
});

describe('RpcWorker warnings', () => {
  it('warns when the DLQ keeps messages for less time than the queue', () => {
    const stack = freshStack();
    const rpc = withSettings({ queueRetentionSeconds: 7200, dlqRetentionSeconds: 3600 })(baseRpc);
    new RpcWorker(stack, 'W', {
      rpc,
      names: plan.names,
      refs: routerRefs(stack, plan.core),
      recordRetentionSeconds: 86400,
    });
    Annotations.fromStack(stack).hasWarning('/Test/W', Match.stringLikeRegexp('DLQ only 3600 s'));
  });

  it('warns about an RPC no rule delivers to', () => {
    const lonely = makeSpec({
      rpcs: [{ id: 'S/Used' }, { id: 'S/Lonely' }],
      subscriptions: [{ event: 'e.x', rpc: 'S/Used' }],
    });
    const router = buildForTest(lonely, { nag: false });
    const stack = router.serviceStacks[0] as Stack;
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('No event is delivered to S/Lonely'));
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('S/Used'));
  });
});

describe('SubscriptionRule validation', () => {
  const rule0 = plan.rules[0] as RulePlan;

  function ruleProblems(
    change: (rule: RulePlan) => RulePlan,
    options: { maxEventAge?: Duration; retryAttempts?: number } = {},
  ) {
    const stack = freshStack();
    const refs = routerRefs(stack, plan.core);
    const workers = new Map(
      plan.rpcs.map((rpc) => [
        rpc.id,
        new RpcWorker(stack, rpc.method, { rpc, names: plan.names, refs, recordRetentionSeconds: 86400 }),
      ]),
    );
    return problemsOf(
      () => new SubscriptionRule(stack, 'R', { rule: change(rule0), bus: refs.bus, workers, ...options }),
    );
  }

  const sixTargets = (rule: RulePlan): RulePlan => ({
    ...rule,
    targets: plan.rpcs.map((rpc) => ({
      id: rpc.method,
      rpc: rpc.id,
      inputTemplate: '{}',
      queueName: rpc.queueName,
      dlqName: rpc.dlqName,
    })),
  });

  it('rejects more than 5 targets', () => {
    assert.match(ruleProblems(sixTargets).join('\n'), /has 6 targets; EventBridge allows 1 to 5/);
  });
  it('rejects a rule without targets', () => {
    assert.match(ruleProblems((rule) => ({ ...rule, targets: [] })).join('\n'), /has 0 targets/);
  });
  it('rejects a pattern over 2048 characters', () => {
    const filter = { payload: { id: ['x'.repeat(2100)] } };
    assert.match(
      ruleProblems((rule) => ({ ...rule, filter, pattern: { detail: filter } })).join('\n'),
      /characters long; EventBridge allows 2048/,
    );
  });
  it('rejects a target without a worker', () => {
    const change = (rule: RulePlan) => ({
      ...rule,
      targets: [{ ...(rule.targets[0] as RulePlan['targets'][number]), rpc: 'Other/Rpc' }],
    });
    assert.match(ruleProblems(change).join('\n'), /Other\/Rpc has no worker/);
  });
  it('rejects duplicate target ids', () => {
    const change = (rule: RulePlan) => ({
      ...rule,
      targets: rule.targets.slice(0, 2).map((target) => ({ ...target, id: 'same' })),
    });
    assert.match(ruleProblems(change).join('\n'), /"same" appears twice/);
  });
  it('rejects an input template over 8192 characters', () => {
    const change = (rule: RulePlan) => ({
      ...rule,
      targets: rule.targets.slice(0, 1).map((target) => ({ ...target, inputTemplate: 'x'.repeat(8193) })),
    });
    assert.match(ruleProblems(change).join('\n'), /input template of 8193 characters/);
  });
  it('rejects a retry policy out of range', () => {
    const problems = ruleProblems((rule) => rule, { maxEventAge: Duration.hours(25), retryAttempts: 186 });
    assert.equal(problems.length, 2);
    assert.match(problems.join('\n'), /maxEventAge is 90000 s/);
    assert.match(problems.join('\n'), /retryAttempts is 186/);
  });

  it('fails synthesis when a rule targets a queue in another stack (deferred check)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const workersStack = new Stack(app, 'Workers');
    const rulesStack = new Stack(app, 'Rules');
    const refs = routerRefs(workersStack, plan.core);
    const workers = new Map([
      [
        baseRpc.id,
        new RpcWorker(workersStack, 'W', {
          rpc: baseRpc,
          names: plan.names,
          refs,
          recordRetentionSeconds: 86400,
        }),
      ],
    ]);
    const rule = { ...rule0, targets: rule0.targets.slice(0, 1) };
    new SubscriptionRule(rulesStack, 'R', { rule, bus: routerRefs(rulesStack, plan.core).bus, workers });
    assert.throws(() => app.synth(), /a rule must live in the stack of the queues it targets/);
  });
});

describe('RouterCore validation', () => {
  it('rejects a negative archive retention', () => {
    const problems = problemsOf(
      () => new RouterCore(freshStack(), 'Core', { core: { ...plan.core, archiveRetentionDays: -1 } }),
    );
    assert.match(problems.join('\n'), /core\.archiveRetentionDays is -1 days/);
  });
});
