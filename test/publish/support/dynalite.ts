/** An in-memory dynalite on 127.0.0.1 with the deliveries table, for status tests. */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DELIVERIES_TABLE } from '../../../functions/commons/contracts.ts';

type DynaliteFactory = (options: { createTableMs?: number }) => Server;
const require = createRequire(import.meta.url);

export interface TestDynamo {
  readonly endpoint: string;
  readonly doc: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/** Starts dynalite and creates `tableName` with the deliveries key schema. */
export async function startDynalite(tableName: string): Promise<TestDynamo> {
  const server = (require('dynalite') as DynaliteFactory)({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: DELIVERIES_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: DELIVERIES_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: DELIVERIES_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: DELIVERIES_TABLE.sortKey, AttributeType: 'S' },
      ],
    }),
  );
  return {
    endpoint,
    doc: DynamoDBDocumentClient.from(client),
    close: () =>
      new Promise<void>((resolve, reject) => {
        client.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
