import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inputTemplateFor } from '../../common/contracts.ts';
import { DEFAULT_RPC_SETTINGS } from '../../lib/config/types.ts';
import {
  estimateServiceStack,
  MAX_RPCS_PER_SERVICE_STACK,
  MAX_TARGETS_PER_RULE,
  planRouter,
  remoteTimeoutMsFor,
  visibilityTimeoutFor,
} from '../../lib/plan/index.ts';
import { generateSpec, makeSpec, PROJECT_ROOT } from '../support/specs.ts';

describe('planner: rules', () => {
  it('splits an event delivered to 12 RPCs of one service into rules of 5, 5 and 2 targets', () => {
    // Given one event subscribed by twelve RPCs of the same service
    const rpcs = Array.from({ length: 12 }, (_, i) => ({ id: `Fanout/Method${i}` }));
    const spec = makeSpec({
      rpcs,
      subscriptions: rpcs.map((rpc) => ({ event: 'order.placed', rpc: rpc.id })),
    });

    // When it is planned
    const plan = planRouter(spec);

    // Then three rules share the event, none over 5 targets, every RPC targeted exactly once
    assert.deepEqual(
      plan.rules.map((rule) => rule.targets.length),
      [5, 5, 2],
    );
    assert.deepEqual(
      plan.rules.map((rule) => rule.name),
      [
        'testapp-dev-order-placed-fanout-1',
        'testapp-dev-order-placed-fanout-2',
        'testapp-dev-order-placed-fanout-3',
      ],
    );
    const targeted = plan.rules.flatMap((rule) => rule.targets.map((target) => target.rpc));
    assert.deepEqual(
      targeted,
      rpcs.map((rpc) => rpc.id),
    );
    assert.ok(plan.rules.every((rule) => rule.targets.length <= MAX_TARGETS_PER_RULE));
  });

  it('groups by event, subscribing service and identical filter (key order does not matter)', () => {
    const spec = makeSpec({
      rpcs: [{ id: 'A/One' }, { id: 'A/Two' }, { id: 'A/Three' }, { id: 'B/One' }],
      subscriptions: [
        {
          event: 'card.used',
          rpc: 'A/One',
          filter: { payload: { amount: [{ numeric: ['>', 5] }] }, metadata: { publisher: ['x'] } },
        },
        {
          event: 'card.used',
          rpc: 'A/Two',
          filter: { metadata: { publisher: ['x'] }, payload: { amount: [{ numeric: ['>', 5] }] } },
        },
        { event: 'card.used', rpc: 'A/Three' },
        { event: 'card.used', rpc: 'B/One' },
      ],
    });
    const plan = planRouter(spec);
    const summary = plan.rules.map((rule) => [rule.name, rule.targets.map((target) => target.rpc)]);
    assert.deepEqual(summary, [
      ['testapp-dev-card-used-a-1', ['A/One', 'A/Two']],
      ['testapp-dev-card-used-a-2', ['A/Three']],
      ['testapp-dev-card-used-b-1', ['B/One']],
    ]);
  });

  it("builds the pattern from the publishers' sources, the event name and the filter on detail, and the input template per target", () => {
    const filter = { payload: { amount: [{ numeric: ['>=', 7500] }] } };
    const spec = makeSpec({
      rpcs: [{ id: 'Receipts/Request' }, { id: 'Ledger/Record' }],
      subscriptions: [
        { event: 'card.transaction.authorized', rpc: 'Receipts/Request', filter },
        { event: 'card.transaction.authorized', rpc: 'Ledger/Record' },
      ],
    });
    const plan = planRouter(spec);
    const [filtered, plain] = plan.rules;
    // Every rule matches the source of the event's declared publisher, not only its name.
    const source = ['event-router.testapp.test-publisher'];
    assert.deepEqual(filtered?.pattern, {
      source,
      'detail-type': ['card.transaction.authorized'],
      detail: filter,
    });
    assert.deepEqual(plain?.pattern, { source, 'detail-type': ['card.transaction.authorized'] });
    assert.deepEqual(plain?.sources, source);
    assert.deepEqual(filtered?.targets, [
      {
        id: 'request',
        rpc: 'Receipts/Request',
        inputTemplate: inputTemplateFor('Receipts/Request'),
        queueName: 'testapp-dev-receipts-request',
        dlqName: 'testapp-dev-receipts-request-dlq',
      },
    ]);
    assert.equal(filtered?.stackName, 'testapp-dev-receipts');
  });
});

describe('planner: RPCs', () => {
  it('derives every name from app, stage, service and method', () => {
    const spec = makeSpec({
      app: 'cardflow',
      stage: 'prod',
      rpcs: [{ id: 'NotificationService/NotifyCardholder' }],
      subscriptions: [{ event: 'card.transaction.authorized', rpc: 'NotificationService/NotifyCardholder' }],
    });
    const plan = planRouter(spec);
    const [rpc] = plan.rpcs;
    assert.equal(rpc?.queueName, 'cardflow-prod-notification-service-notify-cardholder');
    assert.equal(rpc?.dlqName, 'cardflow-prod-notification-service-notify-cardholder-dlq');
    assert.equal(rpc?.functionName, 'cardflow-prod-notification-service-notify-cardholder');
    assert.equal(rpc?.alarmName, 'cardflow-prod-notification-service-notify-cardholder-dlq-depth');
    assert.equal(rpc?.stackName, 'cardflow-prod-notification-service');
    assert.equal(rpc?.entry, join(PROJECT_ROOT, 'test/support/fixtures/handler.ts'));
    assert.deepEqual(plan.core, {
      stackName: 'cardflow-prod-core',
      busName: 'cardflow-prod-bus',
      archiveName: 'cardflow-prod-archive',
      archiveRetentionDays: 30,
      deliveriesTableName: 'cardflow-prod-deliveries',
      deadIndexName: 'dead',
      alarmTopicName: 'cardflow-prod-alarms',
      alarmNamePrefix: 'cardflow-prod-',
    });
    // Every alarm is named under the prefix the alarm topic's policy admits
    for (const planned of plan.rpcs) assert.ok(planned.alarmName.startsWith(plan.core.alarmNamePrefix));
  });

  it('sets the visibility timeout to at least 6 x the function timeout and at most 12 h', () => {
    assert.equal(visibilityTimeoutFor({ ...DEFAULT_RPC_SETTINGS, timeoutSeconds: 30 }), 180);
    assert.equal(
      visibilityTimeoutFor({ ...DEFAULT_RPC_SETTINGS, timeoutSeconds: 900, batchingWindowSeconds: 300 }),
      5700,
    );
    const spec = makeSpec({
      rpcs: [{ id: 'S/Slow', settings: { timeoutSeconds: 120, batchingWindowSeconds: 5 } }],
      subscriptions: [{ event: 'x.happened', rpc: 'S/Slow' }],
    });
    const rpc = planRouter(spec).rpcs[0];
    assert.ok(rpc && rpc.visibilityTimeoutSeconds >= 6 * 120 && rpc.visibilityTimeoutSeconds <= 43200);
  });

  it('plans a remote RPC with its Connect URL and a call timeout below the function timeout', () => {
    const spec = makeSpec({
      rpcs: [
        {
          id: 'Fraud/ScoreTransaction',
          remote: { baseUrl: 'https://fraud.example.com/', package: 'acme.fraud.v1' },
          settings: { timeoutSeconds: 5 },
        },
      ],
      subscriptions: [{ event: 'card.used', rpc: 'Fraud/ScoreTransaction' }],
    });
    const rpc = planRouter(spec, { remoteEntry: '/abs/remote.ts' }).rpcs[0];
    assert.deepEqual(rpc?.runner, {
      kind: 'remote',
      url: 'https://fraud.example.com/acme.fraud.v1.Fraud/ScoreTransaction',
      timeoutMs: 4400, // 5 s less the claim (200 ms) and recording the outcome (400 ms)
    });
    assert.equal(rpc?.entry, '/abs/remote.ts');
    assert.ok(remoteTimeoutMsFor({ ...DEFAULT_RPC_SETTINGS, timeoutSeconds: 1 }) < 1000);
    assert.ok(remoteTimeoutMsFor({ ...DEFAULT_RPC_SETTINGS, timeoutSeconds: 900 }) < 900_000);
  });

  it('gives each worker the schemas of exactly the events it subscribes to', () => {
    const spec = makeSpec({
      rpcs: [{ id: 'S/A' }, { id: 'S/B' }],
      subscriptions: [
        { event: 'one.happened', rpc: 'S/A' },
        { event: 'two.happened', rpc: 'S/A', filter: { payload: { id: ['x'] } } },
        { event: 'two.happened', rpc: 'S/A' },
        { event: 'two.happened', rpc: 'S/B' },
      ],
    });
    const [a, b] = planRouter(spec).rpcs;
    assert.deepEqual(a?.subscribedEvents, ['one.happened', 'two.happened']);
    assert.deepEqual(Object.keys(a?.eventSchemas ?? {}), ['one.happened', 'two.happened']);
    assert.deepEqual(Object.keys(b?.eventSchemas ?? {}), ['two.happened']);
  });
});

describe('planner: stacks', () => {
  it('puts one service in one stack when it fits', () => {
    const plan = planRouter(generateSpec(3, 10, 2));
    assert.deepEqual(
      plan.stacks.map((stack) => stack.stackName),
      ['testapp-dev-service0', 'testapp-dev-service1', 'testapp-dev-service2'],
    );
    for (const stack of plan.stacks) {
      assert.equal(stack.estimatedResources, estimateServiceStack(stack.rpcs.length, stack.rules.length));
    }
  });

  it('shards a service that would pass the budget into -2, -3, ... and keeps each rule with its queues', () => {
    // Given one service of 120 RPCs with 2 subscriptions each (about 1300 resources in one stack)
    const plan = planRouter(generateSpec(1, 120, 2));

    // Then it is split into shards under the budget
    assert.ok(plan.stacks.length >= 3, `expected at least 3 shards, got ${plan.stacks.length}`);
    assert.deepEqual(
      plan.stacks.map((stack) => stack.stackName),
      plan.stacks.map((_, i) => (i === 0 ? 'testapp-dev-service0' : `testapp-dev-service0-${i + 1}`)),
    );
    for (const stack of plan.stacks) {
      assert.ok(stack.estimatedResources <= 450, `${stack.stackName}: ${stack.estimatedResources}`);
      const own = new Set(stack.rpcs.map((rpc) => rpc.id));
      for (const rule of stack.rules) {
        assert.equal(rule.stackName, stack.stackName);
        for (const target of rule.targets) assert.ok(own.has(target.rpc), `${rule.name} -> ${target.rpc}`);
      }
    }
    // And every RPC is placed once, every rule name is unique
    assert.equal(new Set(plan.stacks.flatMap((stack) => stack.rpcs.map((rpc) => rpc.id))).size, 120);
    assert.equal(new Set(plan.rules.map((rule) => rule.name)).size, plan.rules.length);
  });

  it('counts per stack the CDK metadata and the DLQ operator and viewer policies, plus 11 per RPC (three alarms) and 2 per rule (its alarm)', () => {
    assert.equal(estimateServiceStack(0, 0), 3);
    assert.equal(estimateServiceStack(3, 2), 3 + 3 * 11 + 2 * 2);
  });

  it('puts at most MAX_RPCS_PER_SERVICE_STACK RPCs in a stack, even when the budget allows more', () => {
    // Given 45 RPCs of one service and a budget that would take about 45 of them
    const plan = planRouter(generateSpec(1, 45, 1), { stackResourceBudget: 500 });

    // Then the ops policy's size limit, not the budget, splits the service
    assert.equal(MAX_RPCS_PER_SERVICE_STACK, 20);
    assert.deepEqual(
      plan.stacks.map((stack) => stack.rpcs.length),
      [20, 20, 5],
    );
    for (const stack of plan.stacks) {
      assert.equal(stack.estimatedResources, estimateServiceStack(stack.rpcs.length, stack.rules.length));
    }
  });

  it('honours a smaller budget', () => {
    const plan = planRouter(generateSpec(1, 10, 1), { stackResourceBudget: 40 });
    assert.ok(plan.stacks.every((stack) => stack.estimatedResources <= 40));
    assert.ok(plan.stacks.length >= 3);
  });

  it('warns when the bus would pass 300 rules, and not below', () => {
    const small = planRouter(generateSpec(2, 10, 2));
    assert.equal(small.warnings.length, 0);
    const big = planRouter(generateSpec(50, 10, 2));
    assert.ok(big.rules.length > 300);
    assert.deepEqual(
      big.warnings.map((warning) => warning.code),
      ['bus-rule-quota'],
    );
    assert.match(big.warnings[0]?.message ?? '', new RegExp(`${big.rules.length} rules`));
  });

  it('is deterministic', () => {
    assert.deepEqual(planRouter(generateSpec(4, 6, 2)), planRouter(generateSpec(4, 6, 2)));
  });
});
