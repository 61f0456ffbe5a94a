/**
 * A real DynamoDB API for tests and benchmarks: dynalite, in memory, on 127.0.0.1 and a free port,
 * with the deliveries table created from the key schema in contracts.ts.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { deliveriesTableKey } from './deliveries-table.ts';

type DynaliteFactory = (options: {
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
}) => Server;

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as DynaliteFactory;

export interface LocalDynamo {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** A client with `cacheMiddleware`, as the worker's `deliveryRequests` is on Lambda. */
  readonly cached: DynamoDBClient;
  /** HTTP requests dynalite has served so far (each DynamoDB API call is one). */
  requests(): number;
  close(): Promise<void>;
}

/** A DynamoDB client for `endpoint` with dummy credentials. */
export function clientFor(endpoint: string, options: { cacheMiddleware?: boolean } = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    ...options,
  });
}

/** Creates an on-demand deliveries table with the key schema of contracts.ts. */
export async function createDeliveriesTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({ TableName: tableName, ...deliveriesTableKey(), BillingMode: 'PAY_PER_REQUEST' }),
  );
}

/** Starts dynalite in this process and creates the deliveries table `tableName`. */
export async function startDynalite(tableName = 'deliveries'): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let served = 0;
  server.on('request', () => {
    served++;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = clientFor(endpoint);
  await createDeliveriesTable(client, tableName);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const cached = clientFor(endpoint, { cacheMiddleware: true });
  return {
    endpoint,
    tableName,
    client,
    doc,
    cached,
    requests: () => served,
    close: async () => {
      client.destroy();
      cached.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
