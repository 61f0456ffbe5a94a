/**
 * The dashboard of the local runtime: a page at `/` (and `/_dashboard`) and a small JSON API under
 * `/_dashboard/api/`. It talks to the runtime only through the AWS APIs, with SDK v3 clients pointed
 * at the runtime's endpoint, and knows queues and tables from the router spec and the naming convention.
 *
 * JSON API (all GET unless said):
 * - `/_dashboard/api/status` (also `/_status`): the runtime's facts, the graph, each RPC's depths and
 *   events, the recent deliveries: the graph, queues and deliveries endpoints in one answer
 * - `/_dashboard/api/graph`: events, subscribers (with filters) and RPCs with their queue names
 * - `/_dashboard/api/queues`: `{ rpcs: [{ rpc, queue, dlq }] }`, depths visible / inFlight / delayed
 * - `/_dashboard/api/deliveries?limit=100`: newest delivery records by updatedAt
 * - `/_dashboard/api/events/<eventId>?event=<name>`: each subscribed RPC's state (PENDING when no record)
 * - `/_dashboard/api/delivery/<eventId>`: the delivery view's data (payload, records, log lines, follow-ups)
 *
 * Pages: `/` (the dashboard), `/_dashboard/delivery?eventId=` (one event's deliveries), `/_dashboard/send`
 * (send an event through the local publish API).
 * - `/_dashboard/api/dlq?rpc=<Service/Method>&max=10`: a peek at the RPC's DLQ with failure reasons
 * - `/_dashboard/api/failures`: failure groups of every DLQ (`snapshot` freezes their message sets)
 * - `/_dashboard/api/jobs/<id>`: progress of a group redrive
 * - `/_dashboard/api/message?rpc=&messageId=`: one dead letter's event name and payload (for an edit)
 * - `/_dashboard/api/tasks?rpc=&task=<handle>`: a message move task started here
 * - `/_dashboard/api/audit?limit=50`: the newest operator actions
 * - POST `/_dashboard/api/redrive?rpc=<Service/Method>`: moves the whole DLQ back (a message move task)
 * - POST `/_dashboard/api/failures/redrive?snapshot=&group=` (`rate` in the query or form): moves the
 *   group's messages as they were in that snapshot, copy-then-delete, at the rate
 * - POST `/_dashboard/api/edit?rpc=&messageId=` (form `payload=<json>` or JSON `{"payload": ...}`):
 *   checks the payload against the event's schema (422 with each violation) and sends the edited copy
 * - POST `/_dashboard/api/purge?rpc=` (form or query `confirm=<DLQ name>`): purges the RPC's DLQ
 * - POST `/_dashboard/api/replay` (form `from`, `to`, `event`, `rpc`, `rerunCompleted=true`): starts a
 *   replay of the bus archive (lib/ops/replay.ts); `/_dashboard/api/replays/<name>`: its state, the
 *   workers' counts and what is still queued
 *
 * All the DLQ work is lib/ops (the CLI calls the same operations). Every POST must come from the
 * dashboard's own origin (Origin / Sec-Fetch-Site), else 403. A POST's body is the one the runtime read
 * (handed in), or read here when the dashboard is served on its own.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { RouterSpec } from '../../config/types.ts';
import { viewOf } from '../../ops/dead-letter.ts';
import { OpsError } from '../../ops/errors.ts';
import { type FailureReport, Operations, PayloadRejected } from '../../ops/operations.ts';
import { parseWhen, planReplay } from '../../ops/replay.ts';
import type { EventLog } from '../runtime/event-log.ts';
import { readBody } from '../runtime/server.ts';
import { DashboardData, DashboardRequestError, type EventLookup, type PeekedMessage } from './data.ts';
import { loadDeliveryView, renderDeliveryPage, renderSendPage } from './delivery-view.ts';
import type { EditModel, RedriveJob } from './failures-page.ts';
import { buildGraph, type Graph } from './graph.ts';
import { DASHBOARD_PATH, type PageModel, renderPage } from './page.ts';

export interface DashboardOptions {
  /** The runtime's endpoint, e.g. `http://127.0.0.1:4010`. */
  readonly endpoint: string;
  readonly region: string;
  /**
   * The router, or a function giving the one running now (it changes with each reload). The DLQ
   * operations (failure groups, edit, redrive) read its RPCs and event schemas.
   */
  readonly spec?: RouterSpec | (() => RouterSpec | undefined);
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
  /** Who the audit names for actions taken here. @default `local:<OS user>` */
  readonly operator?: string;
  /**
   * What only the runtime knows (`LocalRuntime.facts()`: buses, API routes, template problems), for
   * the status endpoint.
   * @default - the endpoint and region only
   */
  readonly facts?: () => object | undefined;
}

/** Serves a request when it is the dashboard's; resolves false to let the runtime route it. */
export type DashboardHandler = ((
  req: IncomingMessage,
  res: ServerResponse,
  body?: Buffer,
) => Promise<boolean>) & {
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
  return error instanceof DashboardRequestError || error instanceof OpsError ? error.status : 502;
}

function errorText(error: unknown, endpoint: string): string {
  if (error instanceof DashboardRequestError || error instanceof OpsError) return error.message;
  const text = error instanceof Error ? error.message || error.name : String(error);
  return `The runtime at ${endpoint} did not answer as expected: ${text}`;
}

/** A POST coming from another site (a page elsewhere trying to redrive, edit or purge): refused. */
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

/** The largest POST body the dashboard reads (an edited payload fits SQS's 1 MiB message). */
const MAX_BODY_BYTES = 1024 * 1024 + 4096;
/** The API paths that change state (POST only). */
const ACTIONS = new Set(['redrive', 'failures/redrive', 'edit', 'purge', 'replay']);
/** Failure readings kept for a group redrive to refer to. */
const SNAPSHOTS_KEPT = 20;

/** The fields of a POST: its query string, then its form or JSON body. */
function postFields(url: URL, req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const fields: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (body.length === 0) return fields;
  const type = String(req.headers['content-type'] ?? '');
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new DashboardRequestError('The request body is not JSON.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new DashboardRequestError('The request body must be a JSON object.');
    return { ...fields, ...(parsed as Record<string, unknown>) };
  }
  return { ...fields, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) };
}

function rateField(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 500)
    throw new DashboardRequestError(
      `rate must be messages per second from 1 to 500, got "${String(value)}".`,
    );
  return n;
}

/** Creates the dashboard request handler. */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  const spec = options.spec;
  const specOf = typeof spec === 'function' ? spec : () => spec;
  const fixed: Graph | undefined = spec && typeof spec !== 'function' ? buildGraph(spec) : undefined;
  const currentGraph = (): Graph => {
    const running = options.graph?.();
    if (running) return running;
    if (fixed) return fixed;
    const now = specOf();
    return now ? buildGraph(now) : { app: '?', stage: '?', deliveriesTable: '', events: [], rpcs: [] };
  };
  const clientConfig = {
    endpoint: options.endpoint,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  };
  const sqs = new SQSClient(clientConfig);
  const dynamodb = new DynamoDBClient(clientConfig);
  const events = new EventBridgeClient(clientConfig);
  const data = new DashboardData({ graph: currentGraph, dynamodb });
  /** The operations for the router running now: rebuilt when a reload brings a new router. */
  let opsFor: { spec: RouterSpec; ops: Operations } | undefined;
  const currentOps = (): Operations => {
    const spec = specOf();
    if (!spec) throw new DashboardRequestError('The router is not loaded yet; try again in a moment.', 503);
    if (opsFor?.spec !== spec)
      opsFor = {
        spec,
        ops: new Operations({
          spec,
          sqs,
          dynamodb,
          events,
          endpoint: options.endpoint,
          ...(options.operator ? { operator: options.operator } : {}),
        }),
      };
    return opsFor.ops;
  };
  const snapshots = new Map<string, FailureReport>();
  const jobs = new Map<string, RedriveJob>();
  const files: Record<string, { type: string; body: string }> = {
    [`${DASHBOARD_PATH}/client.js`]: { type: 'text/javascript; charset=utf-8', body: asset('client.js') },
    [`${DASHBOARD_PATH}/style.css`]: { type: 'text/css; charset=utf-8', body: asset('style.css') },
    [`${DASHBOARD_PATH}/send.js`]: { type: 'text/javascript; charset=utf-8', body: asset('send.js') },
  };

  /** Reads the failure groups and keeps the reading so a redrive can name one of its groups. */
  async function readFailures(): Promise<{ snapshot: string; report: FailureReport }> {
    const report = await currentOps().failureGroups();
    const snapshot = randomUUID();
    snapshots.set(snapshot, report);
    for (const key of snapshots.keys()) {
      if (snapshots.size <= SNAPSHOTS_KEPT) break;
      snapshots.delete(key);
    }
    return { snapshot, report };
  }

  /** Starts a group redrive in the background; its progress is read at /api/jobs/<id>. */
  function startGroupRedrive(snapshot: string, groupId: string, rate: number | undefined): RedriveJob {
    const report = snapshots.get(snapshot);
    if (!report)
      throw new DashboardRequestError(
        'That failure reading is no longer kept (the dashboard keeps the last 20): read the failures again and redrive from there.',
        409,
      );
    const group = report.groups.find((g) => g.id === groupId);
    if (!group) throw new DashboardRequestError(`No group ${groupId} in that failure reading.`, 404);
    const job: RedriveJob = {
      id: randomUUID(),
      rpc: group.rpc,
      what: `group ${group.id} (${group.errorType}: ${group.signature})`,
      total: group.count,
      moved: 0,
      state: 'running',
      ...(rate ? { rate } : {}),
    };
    jobs.set(job.id, job);
    const ops = currentOps();
    ops
      .groupMessageIds(group)
      .then((ids) => {
        job.total = ids.length;
        return ops.redriveSet(group.rpc, ids, {
          ...(rate ? { rate } : {}),
          what: job.what,
          onProgress: (p) => {
            job.moved = p.moved;
          },
        });
      })
      .then((result) => {
        job.report = result;
        job.moved = result.moved.length;
        job.state = 'done';
      })
      .catch((error: unknown) => {
        job.state = 'failed';
        job.error = errorText(error, options.endpoint);
      });
    return job;
  }

  async function editModel(rpc: string, messageId: string): Promise<EditModel> {
    try {
      const letter = await currentOps().letter(rpc, messageId);
      const { eventName, payload } = currentOps().payloadOf(letter);
      return { rpc, messageId, eventName, payloadText: JSON.stringify(payload, null, 2) };
    } catch (error) {
      return { rpc, messageId, error: errorText(error, options.endpoint) };
    }
  }

  async function page(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    extra: Partial<PageModel> = {},
  ): Promise<void> {
    const q = url.searchParams;
    const graph = currentGraph();
    const [depths, deliveries, audit] = await Promise.all([
      currentOps().depths(),
      data.recentDeliveries(),
      currentOps()
        .auditTrail(20)
        .catch((error: unknown) => ({ error: errorText(error, options.endpoint) })),
    ]);
    const model: { -readonly [K in keyof PageModel]: PageModel[K] } = {
      graph,
      endpoint: options.endpoint,
      depths,
      deliveries,
      audit,
      ...extra,
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
        messages = (await currentOps().peek(peekRpc)).map(viewOf);
      } catch (e) {
        error = errorText(e, options.endpoint);
      }
      model.peek = { rpc: peekRpc, ...(messages ? { messages } : {}), ...(error ? { error } : {}) };
    }
    if (q.get('view') === 'failures' && !model.failures) {
      try {
        model.failures = await readFailures();
      } catch (e) {
        model.failures = { error: errorText(e, options.endpoint) };
      }
    }
    const job = jobs.get(q.get('job') ?? '');
    if (job) model.job = job;
    const replayName = q.get('replay');
    model.replay = {
      events: graph.events.map((e) => e.name),
      rpcs: graph.rpcs.map((r) => r.id),
      ...(model.replay ?? {}),
    };
    if (replayName && !model.replay.status)
      try {
        model.replay = { ...model.replay, status: await replayStatus(replayName) };
      } catch (e) {
        model.replay = { ...model.replay, error: errorText(e, options.endpoint) };
      }
    const editRpc = q.get('edit');
    const editId = q.get('messageId');
    if (editRpc && editId && !model.edit) model.edit = await editModel(editRpc, editId);
    const redriven = q.get('redriven');
    const failed = q.get('redriveFailed');
    const known = (rpc: string | null) => rpc !== null && graph.rpcs.some((r) => r.id === rpc);
    if (known(redriven))
      model.notice = {
        kind: 'ok',
        text: `Redrive of the DLQ of ${redriven} started: its messages are moving back into its queue.`,
      };
    else if (known(failed))
      model.notice = {
        kind: 'error',
        text: `Redrive of the DLQ of ${failed} failed: ${q.get('reason') ?? 'unknown reason'}`,
      };
    else if (known(q.get('purged')))
      model.notice = {
        kind: 'ok',
        text: `Purged the DLQ of ${q.get('purged')}: ${q.get('count') ?? '?'} message(s) deleted.`,
      };
    else if (known(q.get('edited')))
      model.notice = {
        kind: 'ok',
        text: `Sent the edited copy of ${q.get('original') ?? 'the message'} to the queue of ${q.get('edited')}; the original left the DLQ.`,
      };
    else if (q.get('failed')) model.notice = { kind: 'error', text: q.get('failed') ?? '' };
    send(
      res,
      extra.edit?.violations ? 422 : 200,
      'text/html; charset=utf-8',
      renderPage(model),
      req.method === 'HEAD',
    );
  }

  /**
   * The status (`/_dashboard/api/status`, and `/_status`): the runtime's facts, the graph, each RPC's
   * queue and DLQ depth with the events it receives, and the recent deliveries, from the same code as
   * the `graph`, `queues` and `deliveries` endpoints.
   */
  async function statusData(limit: number) {
    const graph = currentGraph();
    const [depths, recent] = await Promise.all([currentOps().depths(), data.recentDeliveries(limit)]);
    const events = new Map(graph.rpcs.map((r) => [r.id, r.subscribedTo]));
    return {
      ...(options.facts?.() ?? { endpoint: options.endpoint, region: options.region }),
      graph,
      rpcs: depths.map((d) => ({ ...d, events: events.get(d.rpc) ?? [] })),
      recent,
    };
  }

  /** A replay's state and counts, and what is still queued for its RPCs. */
  async function replayStatus(name: string) {
    const ops = currentOps();
    const status = await ops.replays.status(name);
    return { ...status, pending: status.rpcs.length ? await ops.pendingIn(status.rpcs) : 0 };
  }

  /** Answers a POST: JSON for the script, a redirect back to the page (303) for a plain form. */
  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    json: unknown,
    location: string,
  ): void {
    if (String(req.headers.accept ?? '').includes('application/json')) sendJson(res, status, json);
    else send(res, 303, 'text/plain; charset=utf-8', 'See the dashboard.', false, { location });
  }

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
    body: Buffer,
  ): Promise<void> {
    if (crossSite(req)) {
      sendJson(res, 403, {
        error: 'Dashboard actions must come from the dashboard page itself (cross-site request refused).',
      });
      return;
    }
    const fields = postFields(url, req, body);
    const field = (name: string) => (typeof fields[name] === 'string' ? (fields[name] as string) : '');
    const wantsJson = String(req.headers.accept ?? '').includes('application/json');
    if (path === 'redrive') {
      const rpc = field('rpc');
      try {
        const task = await currentOps().startRedrive(rpc);
        answer(
          req,
          res,
          202,
          {
            rpc: task.rpc,
            taskHandle: task.taskHandle,
            status: task.status,
            sourceArn: task.sourceArn,
            destinationArn: task.destinationArn,
          },
          `/?redriven=${encodeURIComponent(rpc)}`,
        );
      } catch (error) {
        const text = errorText(error, options.endpoint);
        if (wantsJson) sendJson(res, errorStatus(error), { error: text });
        else
          send(res, 303, 'text/plain; charset=utf-8', text, false, {
            location: `/?redriveFailed=${encodeURIComponent(rpc)}&reason=${encodeURIComponent(text)}`,
          });
      }
      return;
    }
    if (path === 'replay') {
      const spec = specOf();
      try {
        const from = parseWhen(field('from'));
        const to = parseWhen(field('to') || 'now');
        if (!spec)
          throw new DashboardRequestError('The router is not loaded yet; try again in a moment.', 503);
        if (!from || !to)
          throw new DashboardRequestError(
            `"${!from ? 'from' : 'to'}" is not a time: an ISO instant, "now", or a time ago (30m, 2h, 1d).`,
          );
        const plan = planReplay(spec, {
          from,
          to,
          ...(field('event') ? { events: field('event').split(',') } : {}),
          ...(field('rpc') ? { rpcs: field('rpc').split(',') } : {}),
          ...(field('rerunCompleted') === 'true' ? { rerunCompleted: true } : {}),
        });
        await currentOps().replays.start(plan);
        answer(req, res, 202, plan, `/?replay=${encodeURIComponent(plan.name)}#replay`);
      } catch (error) {
        const status = errorStatus(error);
        const text = errorText(error, options.endpoint);
        if (wantsJson) sendJson(res, status, { error: text });
        else
          send(res, 303, 'text/plain; charset=utf-8', text, false, {
            location: `/?failed=${encodeURIComponent(text)}#replay`,
          });
      }
      return;
    }
    if (path === 'failures/redrive') {
      const job = startGroupRedrive(field('snapshot'), field('group'), rateField(fields.rate));
      answer(req, res, 202, job, `/?job=${encodeURIComponent(job.id)}#job`);
      return;
    }
    if (path === 'purge') {
      const rpc = currentOps().rpc(field('rpc'));
      if (field('confirm') !== rpc.dlqName) {
        const text = `Not purged: type the queue name ${rpc.dlqName} to confirm.`;
        if (wantsJson) sendJson(res, 400, { error: text });
        else
          send(res, 303, 'text/plain; charset=utf-8', text, false, {
            location: `/?peek=${encodeURIComponent(rpc.rpc)}&failed=${encodeURIComponent(text)}#dlq-peek`,
          });
        return;
      }
      const result = await currentOps().purge(rpc.rpc);
      answer(req, res, 200, result, `/?purged=${encodeURIComponent(rpc.rpc)}&count=${result.count}`);
      return;
    }
    if (path === 'edit') {
      const rpc = field('rpc');
      const messageId = field('messageId');
      let payload: unknown = fields.payload;
      if (
        typeof payload === 'string' &&
        !String(req.headers['content-type'] ?? '').startsWith('application/json')
      ) {
        try {
          payload = JSON.parse(payload);
        } catch (error) {
          const violations = [
            { pointer: '', message: `is not JSON: ${(error as Error).message}`, keyword: 'json' },
          ];
          if (wantsJson) sendJson(res, 422, { error: 'The payload is not JSON.', violations });
          else
            await page(req, res, url, {
              edit: { rpc, messageId, payloadText: String(fields.payload), violations },
            });
          return;
        }
      }
      try {
        const result = await currentOps().edit(rpc, messageId, payload);
        answer(
          req,
          res,
          200,
          result,
          `/?edited=${encodeURIComponent(rpc)}&original=${encodeURIComponent(messageId)}`,
        );
      } catch (error) {
        if (!(error instanceof PayloadRejected)) throw error;
        if (wantsJson) sendJson(res, 422, { error: error.message, violations: error.violations });
        else
          await page(req, res, url, {
            edit: {
              rpc,
              messageId,
              eventName: error.eventName,
              payloadText:
                typeof fields.payload === 'string' ? fields.payload : JSON.stringify(payload, null, 2),
              violations: error.violations,
            },
          });
      }
      return;
    }
    sendJson(res, 404, {
      error: `No dashboard action at POST ${url.pathname}. It serves redrive?rpc=, failures/redrive, edit, purge.`,
    });
  }

  async function api(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
    body: () => Promise<Buffer>,
  ): Promise<void> {
    if (req.method === 'POST') {
      await post(req, res, url, path, await body());
      return;
    }
    if (req.method !== 'GET' || ACTIONS.has(path)) {
      sendJson(res, 405, {
        error: ACTIONS.has(path)
          ? `${url.pathname} changes state: it is POST (from the dashboard page), e.g. POST /_dashboard/api/redrive?rpc=<Service/Method>.`
          : `${req.method} is not served at ${url.pathname}; the dashboard API is read with GET and acts with POST.`,
      });
      return;
    }
    const q = url.searchParams;
    if (path === 'graph') sendJson(res, 200, currentGraph());
    else if (path === 'status') sendJson(res, 200, await statusData(intParam(url, 'limit', 100, 1000)));
    else if (path === 'queues') sendJson(res, 200, { rpcs: await currentOps().depths() });
    else if (path === 'deliveries')
      sendJson(res, 200, await data.recentDeliveries(intParam(url, 'limit', 100, 1000)));
    else if (path === 'dlq') {
      const rpc = q.get('rpc') ?? '';
      sendJson(res, 200, {
        rpc,
        messages: (await currentOps().peek(rpc, intParam(url, 'max', 10, 100))).map(viewOf),
      });
    } else if (path.startsWith('delivery/') && path.length > 'delivery/'.length) {
      sendJson(
        res,
        200,
        await loadDeliveryView(decodeURIComponent(path.slice('delivery/'.length)), data, options.eventLog),
      );
    } else if (path === 'failures') {
      const { snapshot, report } = await readFailures();
      sendJson(res, 200, {
        snapshot,
        ...report,
        groups: report.groups.map(({ messageIds: _ids, deadLetterIds: _dl, ...g }) => g),
      });
    } else if (path.startsWith('replays/') && path.length > 'replays/'.length) {
      sendJson(res, 200, await replayStatus(decodeURIComponent(path.slice('replays/'.length))));
    } else if (path.startsWith('jobs/')) {
      const job = jobs.get(path.slice('jobs/'.length));
      if (job) sendJson(res, 200, job);
      else sendJson(res, 404, { error: `No redrive job ${path.slice('jobs/'.length)} in this dashboard.` });
    } else if (path === 'message') {
      const model = await editModel(q.get('rpc') ?? '', q.get('messageId') ?? '');
      if (model.error) sendJson(res, 404, { error: model.error });
      else
        sendJson(res, 200, {
          rpc: model.rpc,
          messageId: model.messageId,
          eventName: model.eventName,
          payload: JSON.parse(model.payloadText ?? 'null'),
        });
    } else if (path === 'tasks') {
      sendJson(res, 200, await currentOps().moveTask(q.get('rpc') ?? '', q.get('task') ?? ''));
    } else if (path === 'audit')
      sendJson(res, 200, { entries: await currentOps().auditTrail(intParam(url, 'limit', 50, 500)) });
    else if (path.startsWith('events/') && path.length > 'events/'.length) {
      let eventId: string;
      try {
        eventId = decodeURIComponent(path.slice('events/'.length));
      } catch {
        throw new DashboardRequestError(`The eventId in ${url.pathname} is not valid percent-encoding.`);
      }
      sendJson(res, 200, await data.lookup(eventId, q.get('event') || undefined));
    } else
      sendJson(res, 404, {
        error: `No dashboard API at ${url.pathname}. It serves status, graph, queues, deliveries, dlq?rpc=, failures, jobs/<id>, message?rpc=&messageId=, tasks?rpc=&task=, audit, events/<eventId>, delivery/<eventId>, replays/<name>, and POST redrive, failures/redrive, edit, purge, replay.`,
      });
  }

  const handler = async (req: IncomingMessage, res: ServerResponse, given?: Buffer): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://dashboard.local');
    const path = url.pathname;
    // `/_status` is an alias of the status endpoint (what the runtime answers alone is only its facts).
    if (path === '/_status' && (req.method === 'GET' || req.method === 'HEAD')) {
      try {
        sendJson(res, 200, await statusData(intParam(url, 'limit', 100, 1000)));
      } catch (error) {
        sendJson(res, errorStatus(error), { error: errorText(error, options.endpoint) });
      }
      return true;
    }
    const ours = path === '/' || path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
    if (!ours) return false;
    // `POST /` (and anything but GET/HEAD on `/`) is an AWS API call: never ours.
    if (path === '/' && req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/' && req.headers['x-amz-target'] !== undefined) return false;
    const body = async () => {
      const buffer = given ?? (await readBody(req));
      if (buffer.length > MAX_BODY_BYTES)
        throw new DashboardRequestError('The request body is too large.', 413);
      return buffer;
    };
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
        await api(req, res, url, path.slice(`${DASHBOARD_PATH}/api/`.length), body);
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
      events.destroy();
    },
  });
}
