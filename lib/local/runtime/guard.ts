/**
 * The runtime answers only its own user. It runs on a developer's laptop next to their browser,
 * so it refuses what a web page elsewhere could make that browser send:
 * - a Host other than the loopback address it listens on (`127.0.0.1:<port>`, `localhost:<port>`,
 *   `[::1]:<port>`): a DNS-rebinding page reaches it under its own name (421);
 * - a state-changing request (anything but GET, HEAD, OPTIONS) from another origin: an `Origin`
 *   that is not the runtime's own, or `Sec-Fetch-Site` other than `same-origin` / `none` (403);
 * - an AWS JSON request whose content type a browser may send cross-site without a preflight
 *   (`text/plain`, forms): AWS SDK v3 clients and the AWS CLI send `application/x-amz-json-1.0/1.1`.
 * Bodies are held to what the API they are for accepts, with the error that API gives.
 */
import type { IncomingMessage } from 'node:http';
import { API_GATEWAY, EVENTBRIDGE, SQS } from '../../../common/aws-limits.ts';
import { AwsError, eventsErrors, sqsErrors } from '../services/aws-error.ts';

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const AWS_JSON_TYPES = new Set([
  'application/x-amz-json-1.0',
  'application/x-amz-json-1.1',
  'application/json',
]);

/** Why a request is refused before it is served. */
export interface Refusal {
  readonly status: 403 | 421;
  readonly code: string;
  readonly message: string;
}

/** Whether `host` (a Host header or a URL's host) names this runtime on `port`. */
export function isOwnHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const lower = host.toLowerCase();
  return LOOPBACK_HOSTS.some((name) => lower === `${name}:${port}` || (port === 80 && lower === name));
}

/** The refusal for a request the runtime must not serve, or undefined. */
export function refusal(req: IncomingMessage): Refusal | undefined {
  const port = req.socket.localPort ?? 0;
  const host = req.headers.host;
  if (!isOwnHost(host, port))
    return {
      status: 421,
      code: 'MisdirectedRequest',
      message: `This runtime answers only requests for 127.0.0.1:${port}, localhost:${port} or [::1]:${port}; the Host was "${String(host ?? '')}". Point AWS_ENDPOINT_URL at http://127.0.0.1:${port}.`,
    };
  if (SAFE_METHODS.has((req.method ?? 'GET').toUpperCase())) return undefined;
  const fetchSite = req.headers['sec-fetch-site'];
  if (typeof fetchSite === 'string' && fetchSite !== 'same-origin' && fetchSite !== 'none')
    return crossSite(`Sec-Fetch-Site is "${fetchSite}"`);
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let ownOrigin = false;
    try {
      const url = new URL(origin);
      ownOrigin = url.protocol === 'http:' && isOwnHost(url.host, port);
    } catch {
      ownOrigin = false;
    }
    if (!ownOrigin) return crossSite(`the Origin is "${origin}"`);
  }
  return undefined;
}

function crossSite(why: string): Refusal {
  return {
    status: 403,
    code: 'CrossSiteRequestRefused',
    message: `This runtime refuses state-changing requests from other sites (${why}). Use its dashboard, the event-router CLI or an AWS SDK.`,
  };
}

/** Why an AWS JSON request's content type is refused, or undefined when it is one AWS clients send. */
export function awsContentTypeProblem(req: IncomingMessage): string | undefined {
  const raw = req.headers['content-type'];
  const type = (raw ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (AWS_JSON_TYPES.has(type)) return undefined;
  return `Content-Type "${raw ?? ''}" is not an AWS JSON protocol type. Send application/x-amz-json-1.0 (SQS, DynamoDB) or application/x-amz-json-1.1 (EventBridge), as AWS SDK v3 clients and the AWS CLI do.`;
}

/** The most a request body may hold, and the error the API answers beyond it. */
export interface BodyLimit {
  readonly bytes: number;
  readonly error: (bytes: number) => AwsError;
}

/**
 * JSON escaping can double a text (every `"`, `\`, tab or newline takes two characters), so a
 * request that carries a legal 1 MiB message may be up to twice that on the wire; the operation
 * itself then checks the sizes AWS counts (the message, the entries).
 */
const ESCAPING = 2;
const ENVELOPE_SLACK = 64 * 1024;

/** The body limit of a request: by its X-Amz-Target, or the API Gateway payload limit for other paths. */
export function bodyLimit(target: string | undefined): BodyLimit {
  if (target === undefined || !target.includes('.'))
    return {
      bytes: API_GATEWAY.payloadBytes,
      error: () =>
        new AwsError(
          'RequestTooLong',
          `Request Too Long: the body is over the ${API_GATEWAY.payloadBytes}-byte payload limit of API Gateway.`,
          { status: 413 },
        ),
    };
  if (target === 'AmazonSQS.SendMessageBatch')
    return {
      bytes: ESCAPING * SQS.batchBytes + ENVELOPE_SLACK,
      error: (bytes) => sqsErrors.batchRequestTooLong(bytes, SQS.batchBytes),
    };
  if (target.startsWith('AmazonSQS.'))
    return {
      bytes: ESCAPING * SQS.messageBytes + ENVELOPE_SLACK,
      error: () =>
        sqsErrors.invalidParameterValue(
          `One or more parameters are invalid. Reason: Message must be shorter than ${SQS.messageBytes} bytes.`,
        ),
    };
  if (target.startsWith('AWSEvents.'))
    return {
      bytes: ESCAPING * EVENTBRIDGE.entryBytes + ENVELOPE_SLACK,
      error: () => eventsErrors.validation('Total size of the entries in the request is over the limit.'),
    };
  // DynamoDB: 16 MB is the largest request (BatchWriteItem); dynalite answers 413 beyond it.
  const dynamoDbBytes = 16 * 1024 * 1024;
  return {
    bytes: dynamoDbBytes,
    error: () =>
      new AwsError(
        'com.amazonaws.dynamodb.v20120810#ValidationException',
        `Request size exceeded ${dynamoDbBytes} bytes`,
        { status: 413 },
      ),
  };
}
