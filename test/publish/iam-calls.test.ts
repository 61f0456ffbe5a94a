/**
 * The publish function's role grants exactly the DynamoDB calls the function makes (the local runtime
 * does not enforce IAM, so a missing grant would show only on AWS): every request across its paths
 * (a first publish, a replay, a conflict, an entry the bus refuses and its retry, the status) is
 * recorded as an IAM action and compared with the synthesized role.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { type PublishDependencies, route } from '../../functions/publish/handler.ts';
import { buildForTest } from '../support/cdk.ts';
import { type LocalDynamo, startDynalite } from '../support/dynalite.ts';
import { makeSpec } from '../support/specs.ts';
import { apiEvent } from './support/api-events.ts';
import { type EventBridgeStub, startEventBridgeStub } from './support/eventbridge-stub.ts';
import { publishDependencies } from './support/fixtures.ts';

/** The DynamoDB actions of the publish function's role, from a synthesized core stack. */
function grantedTableActions(): string[] {
  const spec = makeSpec({
    app: 'cardflow',
    rpcs: [{ id: 'Ledger/Record' }],
    subscriptions: [{ event: 'card.authorized', rpc: 'Ledger/Record' }],
  });
  const core = Template.fromStack(buildForTest(spec).coreStack);
  const actions = new Set<string>();
  for (const role of Object.values(core.findResources('AWS::IAM::Role'))) {
    const policies = (role.Properties?.Policies ?? []) as {
      PolicyDocument: { Statement: { Sid?: string; Action: string | string[] }[] };
    }[];
    for (const statement of policies.flatMap((p) => p.PolicyDocument.Statement))
      if (statement.Sid === 'DeliveriesAndReceipts')
        for (const action of ([] as string[]).concat(statement.Action)) actions.add(action);
  }
  assert.ok(actions.size > 0, 'the publish function has a DeliveriesAndReceipts statement');
  return [...actions].sort();
}

describe("the publish function's DynamoDB calls against its role", () => {
  let dynamo: LocalDynamo;
  let stub: EventBridgeStub;
  let deps: PublishDependencies;
  const called = new Set<string>();
  before(async () => {
    dynamo = await startDynalite('cardflow-dev-deliveries');
    stub = await startEventBridgeStub();
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        called.add(`dynamodb:${String(context.commandName).replace(/Command$/, '')}`);
        return next(args);
      },
      { step: 'initialize', name: 'recordIamCall' },
    );
    deps = publishDependencies(stub, dynamo, { send: { sleep: async () => {}, maxAttempts: 2 } });
  });
  after(async () => {
    await stub.close();
    await dynamo.close();
  });

  it('makes only calls its role grants, and its role grants only calls it makes', async () => {
    const post = async (payload: unknown, key: string) =>
      JSON.parse(
        (
          await route(
            apiEvent('POST', '/events', {
              body: JSON.stringify({ event: 'card.transaction.settled', payload, idempotencyKey: key }),
            }),
            deps,
          )
        ).body,
      ) as { eventId: string; status: string };
    // A first publish, its replay, and the key reused with another payload (a conflict).
    const first = await post({ transactionId: 't-1' }, 'k-1');
    assert.equal(first.status, 'ACCEPTED');
    await post({ transactionId: 't-1' }, 'k-1');
    assert.equal((await post({ transactionId: 't-other' }, 'k-1')).status, 'CONFLICT');
    // An entry the bus refuses (its receipt is marked), then its retry (the mark is cleared).
    stub.fate = () => 'InternalFailure';
    const refused = await post({ transactionId: 't-2' }, 'k-2');
    stub.fate = () => undefined;
    await post({ transactionId: 't-2' }, 'k-2');
    // The status.
    const status = await route(
      apiEvent('GET', '/events/{eventId}', { pathParameters: { eventId: refused.eventId } }),
      deps,
    );
    assert.equal(status.statusCode, 200);

    assert.deepEqual([...called].sort(), grantedTableActions());
  });
});
