/**
 * DynamoDB behind the runtime's port: an embedded dynalite (LevelDB in the state directory, or in
 * memory). Requests are handed to dynalite's request handler as they arrive, unread; tables declared
 * in the templates are created on start when missing.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type DynaliteFactory = (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

const require = createRequire(import.meta.url);

/** A table as AWS::DynamoDB::Table declares it (the properties CreateTable takes). */
export interface TableDefinition {
  readonly TableName: string;
  readonly KeySchema: unknown;
  readonly AttributeDefinitions: unknown;
  readonly GlobalSecondaryIndexes?: unknown;
  readonly LocalSecondaryIndexes?: unknown;
}

export class LocalDynamoDb {
  private readonly server: Server;
  private readonly handler: Handler;
  private port = 0;

  private constructor(server: Server) {
    this.server = server;
    const [handler] = server.listeners('request') as Handler[];
    if (!handler) throw new Error('dynalite did not register a request handler.');
    this.handler = handler;
  }

  /** Starts dynalite; `path` is its LevelDB directory, undefined for memory. */
  static async start(path: string | undefined): Promise<LocalDynamoDb> {
    const dynalite = require('dynalite') as DynaliteFactory;
    const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const db = new LocalDynamoDb(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    db.port = typeof address === 'object' && address ? address.port : 0;
    return db;
  }

  /** Serves one DynamoDB request (body not yet read). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.handler(req, res);
  }

  /** Sends one DynamoDB JSON request to dynalite and returns its parsed answer. */
  async call(target: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`http://127.0.0.1:${this.port}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${target}`,
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=local',
        'x-amz-date': '20000101T000000Z',
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Creates each table that does not exist yet. Returns the names created. */
  async ensureTables(tables: readonly TableDefinition[]): Promise<string[]> {
    const created: string[] = [];
    for (const table of tables) {
      const described = await this.call('DescribeTable', { TableName: table.TableName });
      if (described.status === 200) continue;
      const input: Record<string, unknown> = {
        TableName: table.TableName,
        KeySchema: table.KeySchema,
        AttributeDefinitions: table.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
      };
      if (table.GlobalSecondaryIndexes)
        input.GlobalSecondaryIndexes = stripThroughput(table.GlobalSecondaryIndexes);
      if (table.LocalSecondaryIndexes) input.LocalSecondaryIndexes = table.LocalSecondaryIndexes;
      const result = await this.call('CreateTable', input);
      if (result.status !== 200)
        throw new Error(`Could not create DynamoDB table ${table.TableName}: ${JSON.stringify(result.body)}`);
      created.push(table.TableName);
    }
    return created;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function stripThroughput(indexes: unknown): unknown {
  if (!Array.isArray(indexes)) return indexes;
  return indexes.map((index: Record<string, unknown>) => {
    const { ProvisionedThroughput: _p, ContributorInsightsSpecification: _c, ...rest } = index;
    return rest;
  });
}
