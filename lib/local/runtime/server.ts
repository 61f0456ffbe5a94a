/**
 * The runtime's one HTTP server. Every AWS request is `POST /` naming its service in `X-Amz-Target`:
 * `AmazonSQS.<Op>` (JSON 1.0), `AWSEvents.<Op>` (JSON 1.1) and `DynamoDB_20120810.<Op>` (handed to
 * dynalite). Other paths go to the API Gateway routes, then to the status page.
 *
 * It answers only its own user (see `guard.ts`): a Host other than the loopback address it listens
 * on is refused, and so is a state-changing request from another origin. Bodies are counted while
 * they arrive and refused, with the error the AWS API would give, once they pass what the API allows.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { AwsError, serializationError } from '../services/aws-error.ts';
import { awsContentTypeProblem, type BodyLimit, bodyLimit, refusal } from './guard.ts';

export type JsonOperation = (
  operation: string,
  input: Record<string, unknown>,
  signal?: AbortSignal,
  /** The request's headers (SQS keeps `X-Amzn-Trace-Id` as the message's AWSTraceHeader). */
  headers?: IncomingHttpHeaders,
) => Promise<unknown>;

export interface ServerRoutes {
  readonly sqs: JsonOperation;
  readonly events: JsonOperation;
  readonly dynamodb: (req: IncomingMessage, res: ServerResponse) => void;
  /** Answers a non-AWS request (API routes, status page); false when nothing serves the path. */
  readonly http: (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;
  /** Unexpected errors (bugs), for the log. */
  readonly onError: (error: unknown) => void;
}

const SERVICES = {
  'AmazonSQS.': { key: 'sqs', contentType: 'application/x-amz-json-1.0' },
  'AWSEvents.': { key: 'events', contentType: 'application/x-amz-json-1.1' },
} as const;

/** A body larger than its limit: nothing of it is kept. */
export class BodyTooLarge extends Error {
  constructor(readonly bytes: number) {
    super(`The request body is larger than allowed (${bytes} bytes or more).`);
  }
}

/**
 * Reads a request body, counting bytes as they arrive: a declared `content-length` over `limit`
 * is refused before anything is read, and a streamed body is dropped as soon as it passes `limit`.
 */
export function readBody(req: IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge(declared));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        reject(new BodyTooLarge(size));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  contentType: string,
  error: AwsError,
  headers: Record<string, string> = {},
): void {
  send(res, error.status, contentType, error.body(), {
    ...(error.queryError ? { 'x-amzn-query-error': error.queryError } : {}),
    ...headers,
  });
}

/** Answers a body over its limit and closes the connection (the rest of the body is not read). */
function sendTooLarge(res: ServerResponse, contentType: string, limit: BodyLimit, bytes: number): void {
  sendError(res, contentType, limit.error(bytes), { connection: 'close' });
}

async function serveJson(
  req: IncomingMessage,
  res: ServerResponse,
  operation: string,
  handler: JsonOperation,
  contentType: string,
  onError: (error: unknown) => void,
  limit: BodyLimit,
): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, limit.bytes);
  } catch (error) {
    if (error instanceof BodyTooLarge) return sendTooLarge(res, contentType, limit, error.bytes);
    throw error;
  }
  let input: Record<string, unknown>;
  try {
    const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    input = parsed as Record<string, unknown>;
  } catch {
    sendError(res, contentType, serializationError('The request body is not a JSON object.'));
    return;
  }
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    const output = await handler(operation, input, abort.signal, req.headers);
    if (!res.destroyed) send(res, 200, contentType, output);
  } catch (error) {
    if (error instanceof AwsError) sendError(res, contentType, error);
    else {
      onError(error);
      sendError(
        res,
        contentType,
        new AwsError('InternalFailure', `The local runtime failed: ${(error as Error).message}`, {
          status: 500,
        }),
      );
    }
  }
}

/** Creates the server (not yet listening). */
export function createRuntimeServer(routes: ServerRoutes): Server {
  const server = createServer((req, res) => {
    const target = req.headers['x-amz-target'];
    const handle = async () => {
      const refused = refusal(req);
      if (refused) {
        send(res, refused.status, 'application/json', { __type: refused.code, message: refused.message });
        return;
      }
      if (typeof target === 'string') {
        const isDynamoDb = target.startsWith('DynamoDB_20120810.');
        const service = Object.entries(SERVICES).find(([prefix]) => target.startsWith(prefix));
        if (isDynamoDb || service) {
          const contentType = service?.[1].contentType ?? 'application/x-amz-json-1.0';
          const problem = awsContentTypeProblem(req);
          if (problem) {
            send(res, 415, contentType, { __type: 'UnsupportedMediaTypeException', message: problem });
            return;
          }
          const limit = bodyLimit(target);
          const declared = Number(req.headers['content-length']);
          if (Number.isFinite(declared) && declared > limit.bytes)
            return sendTooLarge(res, contentType, limit, declared);
          if (isDynamoDb || !service) return routes.dynamodb(req, res);
          return serveJson(
            req,
            res,
            target.slice(service[0].length),
            routes[service[1].key],
            contentType,
            routes.onError,
            limit,
          );
        }
      }
      let body: Buffer;
      const limit = bodyLimit(undefined);
      try {
        body = await readBody(req, limit.bytes);
      } catch (error) {
        if (!(error instanceof BodyTooLarge)) throw error;
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ message: limit.error(error.bytes).message }));
        return;
      }
      if (await routes.http(req, res, body)) return;
      if (typeof target === 'string') {
        send(res, 400, 'application/x-amz-json-1.1', {
          __type: 'UnknownOperationException',
          message: `The local runtime does not serve ${target}. It serves AmazonSQS.*, AWSEvents.* and DynamoDB_20120810.*.`,
        });
        return;
      }
      if (
        req.method === 'POST' &&
        String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')
      ) {
        send(res, 400, 'application/json', {
          __type: 'InvalidAction',
          message:
            'This endpoint speaks the AWS JSON protocol only (X-Amz-Target). Use a current AWS SDK v3 or AWS CLI v2, which send SQS requests as JSON.',
        });
        return;
      }
      send(res, 404, 'application/json', { message: `Nothing is served at ${req.method} ${req.url}.` });
    };
    handle().catch((error: unknown) => {
      routes.onError(error);
      if (!res.headersSent) send(res, 500, 'application/json', { message: (error as Error).message });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

/** Listens on 127.0.0.1:`port` (0 = any free port); rejects with a readable error if the port is taken. */
export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE')
        reject(
          new Error(
            `Port ${port} on ${host} is already in use (another \`event-router dev\`?). Stop that process or pick another port with --port <n>.`,
          ),
        );
      else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
