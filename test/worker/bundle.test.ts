/**
 * The bundled handler (as the construct builds it) runs on its own: module-scope SDK clients reach
 * DynamoDB through AWS_ENDPOINT_URL (as on the local runtime), the schemas compiled in with `define`
 * are enforced, and the export is a complete Lambda handler.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { EVENT_SCHEMAS } from '../../generated/events.ts';
import { type LocalDynamo, startDynalite } from '../support/dynalite.ts';
import { bundleHandler, ROOT, writeBundle } from './support/bundle.ts';
import { authorizedPayload } from './support/harness.ts';
import { busEvent, queueMessage, sqsEvent, sqsRecord } from './support/messages.ts';

const RPC = 'NotificationService/NotifyCardholder';
const EVENT = 'card.transaction.authorized';

describe('bundled worker', () => {
  let dynamo: LocalDynamo;
  before(async () => {
    dynamo = await startDynalite();
  });
  after(async () => {
    await dynamo.close();
  });

  it('handles a batch from the bundle alone, enforcing the compiled-in schema', async () => {
    const code = await bundleHandler('functions/rpcs/notification-service/notify-cardholder.ts', {
      [EVENT]: EVENT_SCHEMAS[EVENT],
    });
    assert.doesNotMatch(
      code,
      /from"@middy|from"@aws-lambda-powertools|from"@cfworker/,
      'dependencies are bundled',
    );
    const file = writeBundle(`bundle-test-${randomUUID()}.mjs`, code);
    const good = randomUUID();
    const bad = randomUUID();
    const event = sqsEvent([
      sqsRecord(queueMessage(RPC, busEvent(EVENT, authorizedPayload(), { eventId: good })), {
        messageId: 'good',
      }),
      sqsRecord(
        queueMessage(RPC, busEvent(EVENT, { ...authorizedPayload(), amount: -1 }, { eventId: bad })),
        {
          messageId: 'bad',
        },
      ),
    ]);
    const script = [
      `const { handler } = await import(${JSON.stringify(`file://${file}`)});`,
      'const context = { getRemainingTimeInMillis: () => 30000, awsRequestId: "r-1", functionName: "f" };',
      `const response = await handler(${JSON.stringify(event)}, context);`,
      'process.stdout.write(JSON.stringify(response));',
    ].join('\n');

    // When the bundle runs in a fresh process configured only through its environment
    // (asynchronously: dynalite runs in this process and must keep serving)
    const out = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL: dynamo.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_MAX_ATTEMPTS: '1',
        POWERTOOLS_LOG_LEVEL: 'CRITICAL',
        ER_RPC: RPC,
        ER_DELIVERIES_TABLE: dynamo.tableName,
        // Nothing listens here: the dead letter cannot be sent, so that record returns to the queue.
        ER_DLQ_URL: `${dynamo.endpoint.replace(/:\d+$/, ':9')}/111122223333/dlq`,
      },
    });

    // Then the valid delivery completed and the schema violation was caught by the compiled-in schema
    rmSync(file);
    assert.deepEqual(JSON.parse(out.stdout), { batchItemFailures: [{ itemIdentifier: 'bad' }] });
    const record = async (eventId: string) =>
      (
        await dynamo.doc.send(
          new GetCommand({ TableName: dynamo.tableName, Key: { eventId, rpc: RPC }, ConsistentRead: true }),
        )
      ).Item;
    assert.equal((await record(good))?.status, 'COMPLETED');
    // (without the schema it would have run and completed; with it, it is poison whose dead letter
    // could not be sent, so nothing is recorded: a record says DEAD only once its letter is in the DLQ)
    assert.equal(await record(bad), undefined);
  });
});
