/**
 * The dashboard of the local runtime: a page at `/` (and `/_dashboard`) and a small JSON API under
 * `/_dashboard/api/`. It talks to the runtime only through the AWS APIs, with SDK v3 clients pointed
 * at the runtime's endpoint, and knows queues and tables from the router spec and the naming convention.
 *
 * JSON API (all GET unless said):
 * - `/_dashboard/api/graph`: events, subscribers (with filters) and RPCs with their queue names
 * - `/_dashboard/api/queues`: `{ rpcs: [{ rpc, queue, dlq }] }`, depths visible / inFlight / delayed
 * - `/_dashboard/api/deliveries?limit=100`: newest delivery records by updatedAt
 * - `/_dashboard/api/events/<eventId>?event=<name>`: each subscribed RPC's state (PENDING when no record)
 * - `/_dashboard/api/delivery/<eventId>`: the delivery view's data (payload, records, log lines, follow-ups)
 *
 * Pages: `/` (the dashboard), `/_dashboard/delivery?eventId=` (one event's deliveries), `/_dashboard/send`
 * (send an event through the local publish API).
 * - `/_dashboard/api/dlq?rpc=<Service/Method>&max=10`: a peek at the RPC's DLQ with failure reasons
 * - POST `/_dashboard/api/redrive?rpc=<Service/Method>`: moves the DLQ back into the RPC's queue
 *
 * Request bodies are never read (the runtime may have consumed them already); everything is in the URL.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { RouterSpec } from '../../config/types.ts';
import type { EventLog } from '../event-log.ts';
import { DashboardData, DashboardRequestError, type EventLookup, type PeekedMessage } from './data.ts';
import { loadDeliveryView, renderDeliveryPage, renderSendPage } from './delivery-view.ts';
import { buildGraph, type Graph } from './graph.ts';
import { DASHBOARD_PATH, type PageModel, renderPage } from './page.ts';

export interface DashboardOptions {
  /** The runtime's endpoint, e.g. `http://127.0.0.1:4010`. */
  readonly endpoint: string;
  readonly region: string;
  /** The router, when it does not change while the dashboard runs. */
  readonly spec?: RouterSpec;
  /**
   * The graph of what the runtime runs now (`LocalRuntime.graph`): read on every request, so the
   * dashboard follows each reload. Takes precedence over `spec`.
   * @default - the graph of `spec`
   */
  readonly graph?: () => Graph | undefined;
  /**
   * The runtime's recent events (payloads, follow-ups, worker log lines) for the delivery view.
   * @default - the delivery view shows the stored records only
   */
  readonly eventLog?: EventLog;
  /**
   * Path of the local publish API's `POST /events` the send-event page posts to.
   * @default '/api/events'
   */
  readonly publishPath?: string;
}

/** Serves a request when it is the dashboard's; resolves false to let the runtime route it. */
export type DashboardHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) & {
  /** Releases the SDK clients' connections. */
  close(): void;
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function asset(name: string): string {
  return readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  head = false,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(head ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function errorStatus(error: unknown): number {
  return error instanceof DashboardRequestError ? error.status : 502;
}

function errorText(error: unknown, endpoint: string): string {
  if (error instanceof DashboardRequestError) return error.message;
  const text = error instanceof Error ? error.message || error.name : String(error);
  return `The runtime at ${endpoint} did not answer as expected: ${text}`;
}

/** A POST coming from another site (a page elsewhere trying to redrive): refused. */
function crossSite(req: IncomingMessage): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

function intParam(url: URL, name: string, fallback: number, max: number): number {
  const n = Number(url.searchParams.get(name));
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : fallback;
}

/** Creates the dashboard request handler. */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  const fixed: Graph = options.spec
    ? buildGraph(options.spec)
    : { app: '?', stage: '?', deliveriesTable: '', events: [], rpcs: [] };
  const currentGraph = (): Graph => options.graph?.() ?? fixed;
  const clientConfig = {
    endpoint: options.endpoint,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  };
  const sqs = new SQSClient(clientConfig);
  const dynamodb = new DynamoDBClient(clientConfig);
  const data = new DashboardData({ graph: currentGraph, sqs, dynamodb });
  const files: Record<string, { type: string; body: string }> = {
    [`${DASHBOARD_PATH}/client.js`]: { type: 'text/javascript; charset=utf-8', body: asset('client.js') },
    [`${DASHBOARD_PATH}/style.css`]: { type: 'text/css; charset=utf-8', body: asset('style.css') },
    [`${DASHBOARD_PATH}/send.js`]: { type: 'text/javascript; charset=utf-8', body: asset('send.js') },
  };

  async function page(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const q = url.searchParams;
    const graph = currentGraph();
    const [depths, deliveries] = await Promise.all([data.depths(), data.recentDeliveries()]);
    const model: { -readonly [K in keyof PageModel]: PageModel[K] } = {
      graph,
      endpoint: options.endpoint,
      depths,
      deliveries,
    };
    const eventId = q.get('eventId')?.trim();
    if (eventId) {
      const eventName = q.get('event') || undefined;
      let result: EventLookup | undefined;
      let error: string | undefined;
      try {
        result = await data.lookup(eventId, eventName);
      } catch (e) {
        error = errorText(e, options.endpoint);
      }
      model.lookup = {
        eventId,
        ...(eventName ? { eventName } : {}),
        ...(result ? { result } : {}),
        ...(error ? { error } : {}),
      };
    }
    const peekRpc = q.get('peek');
    if (peekRpc) {
      let messages: PeekedMessage[] | undefined;
      let error: string | undefined;
      try {
        messages = await data.peek(peekRpc);
      } catch (e) {
        error = errorText(e, options.endpoint);
      }
      model.peek = { rpc: peekRpc, ...(messages ? { messages } : {}), ...(error ? { error } : {}) };
    }
    const redriven = q.get('redriven');
    const failed = q.get('redriveFailed');
    if (redriven && graph.rpcs.some((r) => r.id === redriven))
      model.notice = {
        kind: 'ok',
        text: `Redrive of the DLQ of ${redriven} started: its messages are moving back into its queue.`,
      };
    else if (failed && graph.rpcs.some((r) => r.id === failed))
      model.notice = {
        kind: 'error',
        text: `Redrive of the DLQ of ${failed} failed: ${q.get('reason') ?? 'unknown reason'}`,
      };
    send(res, 200, 'text/html; charset=utf-8', renderPage(model), req.method === 'HEAD');
  }

  async function redrive(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const wantsJson = String(req.headers.accept ?? '').includes('application/json');
    const rpc = url.searchParams.get('rpc') ?? '';
    if (crossSite(req)) {
      sendJson(res, 403, {
        error: 'Redrive requests must come from the dashboard page itself (cross-site request refused).',
      });
      return;
    }
    try {
      const result = await data.redrive(rpc);
      if (wantsJson) sendJson(res, 202, result);
      else
        send(res, 303, 'text/plain; charset=utf-8', 'Redrive started.', false, {
          location: `/?redriven=${encodeURIComponent(rpc)}`,
        });
    } catch (error) {
      const text = errorText(error, options.endpoint);
      if (wantsJson) sendJson(res, errorStatus(error), { error: text });
      else
        send(res, 303, 'text/plain; charset=utf-8', text, false, {
          location: `/?redriveFailed=${encodeURIComponent(rpc)}&reason=${encodeURIComponent(text)}`,
        });
    }
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    if (path === 'redrive') {
      if (req.method !== 'POST') {
        sendJson(res, 405, { error: 'Redrive is POST /_dashboard/api/redrive?rpc=<Service/Method>.' });
        return;
      }
      await redrive(req, res, url);
      return;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, {
        error: `${req.method} is not served at ${url.pathname}; the dashboard API is read with GET.`,
      });
      return;
    }
    if (path === 'graph') sendJson(res, 200, currentGraph());
    else if (path === 'queues') sendJson(res, 200, { rpcs: await data.depths() });
    else if (path === 'deliveries')
      sendJson(res, 200, await data.recentDeliveries(intParam(url, 'limit', 100, 1000)));
    else if (path === 'dlq') {
      const rpc = url.searchParams.get('rpc') ?? '';
      sendJson(res, 200, { rpc, messages: await data.peek(rpc, intParam(url, 'max', 10, 100)) });
    } else if (path.startsWith('delivery/') && path.length > 'delivery/'.length) {
      sendJson(
        res,
        200,
        await loadDeliveryView(decodeURIComponent(path.slice('delivery/'.length)), data, options.eventLog),
      );
    } else if (path.startsWith('events/') && path.length > 'events/'.length) {
      let eventId: string;
      try {
        eventId = decodeURIComponent(path.slice('events/'.length));
      } catch {
        throw new DashboardRequestError(`The eventId in ${url.pathname} is not valid percent-encoding.`);
      }
      sendJson(res, 200, await data.lookup(eventId, url.searchParams.get('event') || undefined));
    } else
      sendJson(res, 404, {
        error: `No dashboard API at ${url.pathname}. It serves graph, queues, deliveries, dlq?rpc=, events/<eventId>, delivery/<eventId> and POST redrive?rpc=.`,
      });
  }

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://dashboard.local');
    const path = url.pathname;
    const ours = path === '/' || path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
    if (!ours) return false;
    // `POST /` (and anything but GET/HEAD on `/`) is an AWS API call: never ours.
    if (path === '/' && req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/' && req.headers['x-amz-target'] !== undefined) return false;
    try {
      if (path === '/' || path === DASHBOARD_PATH || path === `${DASHBOARD_PATH}/`) {
        if (req.method !== 'GET' && req.method !== 'HEAD')
          sendJson(res, 405, { error: 'The dashboard page is read with GET.' });
        else await page(req, res, url);
      } else if (path === `${DASHBOARD_PATH}/delivery` || path === `${DASHBOARD_PATH}/send`) {
        if (req.method !== 'GET' && req.method !== 'HEAD')
          sendJson(res, 405, { error: `${path} is read with GET.` });
        else if (path === `${DASHBOARD_PATH}/send`)
          send(
            res,
            200,
            'text/html; charset=utf-8',
            renderSendPage(currentGraph(), options.publishPath ?? '/api/events'),
            req.method === 'HEAD',
          );
        else {
          const eventId = url.searchParams.get('eventId')?.trim() ?? '';
          if (!eventId)
            throw new DashboardRequestError('Give the eventId to show: /_dashboard/delivery?eventId=<id>.');
          const view = await loadDeliveryView(eventId, data, options.eventLog);
          send(res, 200, 'text/html; charset=utf-8', renderDeliveryPage(view), req.method === 'HEAD');
        }
      } else if (path.startsWith(`${DASHBOARD_PATH}/api/`)) {
        await api(req, res, url, path.slice(`${DASHBOARD_PATH}/api/`.length));
      } else {
        const file = files[path];
        if (file && (req.method === 'GET' || req.method === 'HEAD'))
          send(res, 200, file.type, file.body, req.method === 'HEAD');
        else
          sendJson(res, 404, { error: `Nothing is served at ${req.method} ${path}. The dashboard is at /.` });
      }
    } catch (error) {
      if (!res.headersSent) sendJson(res, errorStatus(error), { error: errorText(error, options.endpoint) });
      else res.destroy();
    }
    return true;
  };
  return Object.assign(handler, {
    close() {
      sqs.destroy();
      dynamodb.destroy();
    },
  });
}
