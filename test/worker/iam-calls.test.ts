/**
 * The worker's role grants what the worker calls, and the worker calls nothing its role does not grant.
 * The local runtime does not enforce IAM, so a call the role lacks (the new-delivery claim as PutItem,
 * granted only UpdateItem) would only show on AWS, as every first delivery failing: here every AWS
 * request the worker makes across its paths (first delivery, duplicate, retryable failure, dead letter,
 * redrive, operator re-run, requeue) is recorded as an IAM action and compared with the synthesized role.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { defineRpc, NonRetryableError } from '../../generated/rpc.ts';
import { buildForTest, templateOf } from '../support/cdk.ts';
import { makeSpec } from '../support/specs.ts';
import { authorizedPayload, DLQ_URL, type Harness, QUEUE_URL, startHarness } from './support/harness.ts';
import { busEvent, lambdaContext, queueMessage, sqsEvent, sqsRecord } from './support/messages.ts';

const RPC = 'LedgerService/RecordTransaction';
const EVENT = 'card.transaction.authorized';

/** What a statement of the synthesized role allows, by the kind of resource it names. */
type Grants = Map<'table' | 'queue' | 'dlq', Set<string>>;

function grant(grants: Grants, on: 'table' | 'queue' | 'dlq', action: string): void {
  const actions = grants.get(on) ?? new Set<string>();
  actions.add(action);
  grants.set(on, actions);
}

/** The worker role's DynamoDB and SQS actions, from a synthesized service stack. */
function roleGrants(): Grants {
  const spec = makeSpec({
    app: 'cardflow',
    rpcs: [{ id: 'Ledger/Record' }],
    subscriptions: [{ event: 'card.authorized', rpc: 'Ledger/Record' }],
  });
  const template = templateOf(buildForTest(spec), 'cardflow-dev-ledger');
  const grants: Grants = new Map();
  for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
    const policies = (role.Properties?.Policies ?? []) as {
      PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
    }[];
    for (const statement of policies.flatMap((p) => p.PolicyDocument.Statement)) {
      const resource = JSON.stringify(statement.Resource);
      const actions = ([] as string[]).concat(statement.Action);
      for (const action of actions) {
        if (action.startsWith('dynamodb:') && resource.includes(':table/')) grant(grants, 'table', action);
        if (action.startsWith('sqs:'))
          grant(grants, /DeadLetterQueue/.test(resource) ? 'dlq' : 'queue', action);
      }
    }
  }
  return grants;
}

/** Records each DynamoDB request `client` sends as the IAM action it needs. */
function recordCalls(client: DynamoDBClient, calls: Grants): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      grant(calls, 'table', `dynamodb:${String(context.commandName).replace(/Command$/, '')}`);
      return next(args);
    },
    { step: 'initialize', name: 'recordIamCall' },
  );
}

type Behaviour = () => Promise<unknown>;
let behaviour: Behaviour = async () => ({ ok: true });
const handler = defineRpc(EVENT, async () => behaviour());

function message(eventId: string, attributes?: Record<string, string>, receiveCount = 1) {
  return sqsRecord(queueMessage(RPC, busEvent(EVENT, authorizedPayload(eventId), { eventId })), {
    receiveCount,
    ...(attributes ? { messageAttributes: attributes } : {}),
  });
}

describe("the worker's calls against its role", () => {
  let h: Harness;
  const calls: Grants = new Map();
  before(async () => {
    h = await startHarness(RPC);
    recordCalls(h.dynamo.client, calls);
    recordCalls(h.dynamo.cached, calls);
  });
  after(async () => {
    await h.close();
  });

  it('makes only calls its role grants, and its role grants only calls it makes', async () => {
    const worker = h.wire(handler);
    const context = () => lambdaContext(30_000);
    // A first delivery, then a duplicate of it.
    const done = randomUUID();
    behaviour = async () => ({ ok: true });
    await worker(sqsEvent([message(done)]), context());
    await worker(sqsEvent([message(done)]), context());
    // A retryable failure (backoff: visibility), then a non-retryable one (dead letter).
    const failing = randomUUID();
    behaviour = async () => {
      throw new Error('ledger unavailable');
    };
    await worker(sqsEvent([message(failing)]), context());
    const poison = randomUUID();
    behaviour = async () => {
      throw new NonRetryableError('account closed');
    };
    await worker(sqsEvent([message(poison)]), context());
    // The dead letter redriven (its DeadLetterId), and an operator re-run of the completed delivery.
    const deadLetterId = h.queue.sent.find((m) => m.QueueUrl === DLQ_URL)?.MessageAttributes?.DeadLetterId
      ?.StringValue;
    assert.ok(deadLetterId, 'the poison message was dead-lettered with a DeadLetterId');
    behaviour = async () => ({ ok: true });
    await worker(sqsEvent([message(poison, { DeadLetterId: deadLetterId })]), context());
    await worker(sqsEvent([message(done, { RerunId: randomUUID() })]), context());
    // A copy of the failed delivery on its last receive before its backoff is over: sent back to the
    // queue as a new message rather than burning the delivery into the DLQ.
    await worker(sqsEvent([message(failing, undefined, h.config.maxReceiveCount)]), context());

    for (const input of h.queue.sent)
      grant(calls, input.QueueUrl === DLQ_URL ? 'dlq' : 'queue', 'sqs:SendMessage');
    for (const input of h.queue.visibility) {
      assert.equal(input.QueueUrl, QUEUE_URL);
      grant(calls, 'queue', 'sqs:ChangeMessageVisibility');
    }

    const granted = roleGrants();
    const sorted = (g: Grants, on: 'table' | 'queue' | 'dlq') => [...(g.get(on) ?? [])].sort();
    // DynamoDB: exactly the calls made (the claim's PutItem, the later UpdateItems, a duplicate's read).
    assert.deepEqual(sorted(calls, 'table'), sorted(granted, 'table'));
    // SQS: every call granted (the event source mapping makes the receives, deletes and attribute reads).
    for (const on of ['queue', 'dlq'] as const)
      for (const action of calls.get(on) ?? [])
        assert.ok(
          granted.get(on)?.has(action),
          `${action} on the ${on} is not granted: ${sorted(granted, on)}`,
        );
    assert.deepEqual(sorted(calls, 'queue'), ['sqs:ChangeMessageVisibility', 'sqs:SendMessage']);
    assert.deepEqual(sorted(calls, 'dlq'), ['sqs:SendMessage']);
  });
});
