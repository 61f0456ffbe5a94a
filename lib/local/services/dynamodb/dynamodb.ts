/**
 * DynamoDB behind the runtime's port: an embedded dynalite (LevelDB in the state directory, or in
 * memory). Requests are handed to dynalite's request handler as they arrive, unread, except
 * single-item writes: those asking for `ReturnValuesOnConditionCheckFailure: ALL_OLD` are answered
 * as DynamoDB answers them (the item in the failed-condition error, read with one consistent
 * GetItem). Tables declared in the templates are created on start when missing.
 */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  isConditionFailure,
  keyFromItem,
  keyNamesOf,
  type OldItemWrite,
  readOldItemRequest,
  singleWriteOperation,
  type WireItem,
} from './old-item.ts';

/** What dynalite's request handler uses of a request. */
interface DynaliteRequest extends NodeJS.EventEmitter {
  readonly headers: IncomingHttpHeaders;
  readonly method?: string;
  readonly url?: string;
}

/** What dynalite's request handler uses of a response. */
interface DynaliteResponse {
  statusCode: number;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  end(body?: string): unknown;
}

type Handler = (req: DynaliteRequest, res: DynaliteResponse) => void;

/** An answer of dynalite kept in memory. */
interface Answer {
  readonly status: number;
  readonly headers: ReadonlyMap<string, number | string | readonly string[]>;
  readonly body: string;
}

/** Headers dynalite accepts for the runtime's own requests (it checks their presence, not the signature). */
const LOCAL_HEADERS: IncomingHttpHeaders = {
  'content-type': 'application/x-amz-json-1.0',
  authorization:
    'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=local',
  'x-amz-date': '20000101T000000Z',
};

/** The largest request body dynalite takes (it answers 413 beyond). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
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
  /** Key attribute names per table, for PutItem's old item (from DescribeTable). */
  private readonly keyNames = new Map<string, string[]>();
  /** Requests dynalite has not answered yet: closing waits for them, so none touches a closed store. */
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private closing = false;

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
    // Requests reach dynalite through `handle` and in process; its own server listens only because
    // closing that server is how dynalite closes its store.
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return db;
  }

  /** Serves one DynamoDB request (body not yet read). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (this.closing) {
      writeAnswer(res, {
        status: 503,
        headers: new Map([['content-type', 'application/x-amz-json-1.0']]),
        body: JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ServiceUnavailable',
          message: 'The local runtime is stopping; DynamoDB takes no more requests.',
        }),
      });
      return;
    }
    this.track(res);
    if (target.endsWith('.CreateTable') || target.endsWith('.DeleteTable')) this.keyNames.clear();
    const operation = singleWriteOperation(target);
    if (!operation || req.method !== 'POST') {
      this.handler(req, res);
      return;
    }
    void this.serveWrite(operation, req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      writeAnswer(res, {
        status: 500,
        headers: new Map([['content-type', 'application/x-amz-json-1.0']]),
        body: JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          message: `The local runtime failed to serve ${target}: ${(error as Error).message}`,
        }),
      });
    });
  }

  /** A single-item write: read, then answered by dynalite, with the old item added where asked for. */
  private async serveWrite(
    operation: NonNullable<ReturnType<typeof singleWriteOperation>>,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const body = await readBody(req);
    if (body === undefined) {
      // Larger than dynalite takes: answered as dynalite answers any oversized request.
      res.statusCode = 413;
      res.end();
      return;
    }
    const request = readOldItemRequest(operation, body);
    if (request.kind === 'plain') {
      this.handler(replay(req.headers, body), res);
      return;
    }
    if (request.kind === 'invalid') {
      writeAnswer(res, {
        status: 400,
        headers: new Map([['content-type', contentTypeOf(req.headers)]]),
        body: JSON.stringify({
          __type: 'com.amazon.coral.validate#ValidationException',
          message: request.message,
        }),
      });
      return;
    }
    const answer = await this.dispatch(req.headers, body);
    writeAnswer(res, await this.withOldItem(request.write, answer));
  }

  /** Adds the item to a failed-condition answer (unchanged when there is none or it cannot be read). */
  private async withOldItem(write: OldItemWrite, answer: Answer): Promise<Answer> {
    if (answer.status !== 400) return answer;
    let error: unknown;
    try {
      error = JSON.parse(answer.body);
    } catch {
      return answer;
    }
    if (!isConditionFailure(error)) return answer;
    const key = write.key ?? (write.item ? await this.putItemKey(write.tableName, write.item) : undefined);
    if (!key) return answer;
    const read = await this.local('GetItem', { TableName: write.tableName, Key: key, ConsistentRead: true });
    if (read.status !== 200) return answer;
    const item = (JSON.parse(read.body) as { Item?: WireItem }).Item;
    if (!item) return answer;
    return { ...answer, body: JSON.stringify({ ...error, Item: item }) };
  }

  private async putItemKey(tableName: string, item: WireItem): Promise<WireItem | undefined> {
    let names = this.keyNames.get(tableName);
    if (!names) {
      const described = await this.local('DescribeTable', { TableName: tableName });
      if (described.status !== 200) return undefined;
      names = keyNamesOf(JSON.parse(described.body) as Record<string, unknown>);
      if (!names) return undefined;
      this.keyNames.set(tableName, names);
    }
    return keyFromItem(item, names);
  }

  /** One request of the runtime's own to dynalite, in process. */
  private local(operation: string, body: unknown): Promise<Answer> {
    return this.dispatch(
      { ...LOCAL_HEADERS, 'x-amz-target': `DynamoDB_20120810.${operation}` },
      JSON.stringify(body),
    );
  }

  /** Hands a request to dynalite's handler in process and keeps its answer in memory. */
  private dispatch(headers: IncomingHttpHeaders, body: string): Promise<Answer> {
    return new Promise((resolve) => {
      const collected = new Map<string, number | string | readonly string[]>();
      const response: DynaliteResponse = {
        statusCode: 200,
        setHeader(name, value) {
          collected.set(name.toLowerCase(), value);
          return this;
        },
        end(text) {
          resolve({ status: this.statusCode, headers: collected, body: text ?? '' });
          return this;
        },
      };
      this.handler(replay(headers, body), response);
    });
  }

  /** Sends one DynamoDB JSON request to dynalite and returns its parsed answer. */
  async call(target: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const answer = await this.local(target, body);
    return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
  }

  /** Creates each table that does not exist yet. Returns the names created. */
  async ensureTables(tables: readonly TableDefinition[]): Promise<string[]> {
    const created: string[] = [];
    for (const table of tables) {
      const described = await this.call('DescribeTable', { TableName: table.TableName });
      // A table of an earlier state directory keeps the indexes it was created with (dynalite cannot add
      // one): `event-router failures` then reads the DLQs instead of the index of dead deliveries.
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
    for (const name of created) await this.waitUntilActive(name);
    return created;
  }

  /** dynalite answers CreateTable with CREATING and serves the table a moment later; wait for ACTIVE. */
  private async waitUntilActive(tableName: string): Promise<void> {
    for (let tries = 0; tries < 200; tries++) {
      const described = await this.call('DescribeTable', { TableName: tableName });
      const table = described.body.Table as
        | { TableStatus?: string; GlobalSecondaryIndexes?: Array<{ IndexStatus?: string }> }
        | undefined;
      const indexesReady = (table?.GlobalSecondaryIndexes ?? []).every(
        (i) => (i.IndexStatus ?? 'ACTIVE') === 'ACTIVE',
      );
      if (described.status === 200 && table?.TableStatus === 'ACTIVE' && indexesReady) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`DynamoDB table ${tableName} did not become ACTIVE after being created.`);
  }

  /** Counts a request until dynalite ends its answer (also when the client has gone). */
  private track(res: ServerResponse): void {
    this.inFlight++;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    let ended = false;
    res.end = ((...args: unknown[]) => {
      if (!ended) {
        ended = true;
        this.inFlight--;
        if (this.inFlight === 0) this.drained?.();
      }
      return end(...args);
    }) as ServerResponse['end'];
  }

  /** Refuses new requests, lets those in flight finish (at most `graceMs`), then closes the store. */
  async close(graceMs = 5_000): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A request for dynalite's handler carrying an already-read body. */
function replay(headers: IncomingHttpHeaders, body: string): DynaliteRequest {
  const stream = Readable.from(body === '' ? [] : [Buffer.from(body)]);
  return Object.assign(stream, { headers, method: 'POST', url: '/' });
}

/** The body as text; undefined when it is larger than dynalite takes. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function contentTypeOf(headers: IncomingHttpHeaders): string {
  const type = (headers['content-type'] ?? '').split(';')[0]?.trim();
  return type === 'application/x-amz-json-1.0' ? type : 'application/json';
}

/** Writes an answer with DynamoDB's checksum and length headers (recomputed: the body may have changed). */
function writeAnswer(res: ServerResponse, answer: Answer): void {
  for (const [name, value] of answer.headers) {
    if (name === 'x-amz-crc32' || name === 'content-length') continue;
    res.setHeader(name, value);
  }
  res.statusCode = answer.status;
  res.setHeader('x-amz-crc32', crc32(answer.body));
  res.setHeader('content-length', Buffer.byteLength(answer.body));
  res.end(answer.body);
}

function stripThroughput(indexes: unknown): unknown {
  if (!Array.isArray(indexes)) return indexes;
  return indexes.map((index: Record<string, unknown>) => {
    const { ProvisionedThroughput: _p, ContributorInsightsSpecification: _c, ...rest } = index;
    return rest;
  });
}
