/**
 * The dashboard page, rendered on the server so it reads without JavaScript: the event -> RPC graph,
 * queue and DLQ depths with redrive, recent deliveries, and (when asked in the query string) an
 * event lookup and a DLQ peek. The script only refreshes and enhances what is already there.
 */

import type { AuditEntry } from '../../ops/audit.ts';
import type {
  DeliveryRow,
  EventLookup,
  PeekedMessage,
  QueueDepth,
  RecentDeliveries,
  RpcDepths,
} from './data.ts';
import {
  auditSection,
  type EditModel,
  editSection,
  type FailuresModel,
  failuresSection,
  jobSection,
  purgeForm,
  type RedriveJob,
  type ReplayModel,
  replaySection,
} from './failures-page.ts';
import type { Graph, GraphEvent } from './graph.ts';
import { html, type SafeHtml } from './html.ts';

/** Base path of the dashboard's own files and JSON API. */
export const DASHBOARD_PATH = '/_dashboard';

export interface PageModel {
  readonly graph: Graph;
  readonly endpoint: string;
  readonly depths: readonly RpcDepths[];
  readonly deliveries: RecentDeliveries;
  readonly lookup?: {
    readonly eventId: string;
    readonly eventName?: string;
    readonly result?: EventLookup;
    readonly error?: string;
  };
  readonly peek?: {
    readonly rpc: string;
    readonly messages?: readonly PeekedMessage[];
    readonly error?: string;
  };
  /** One line shown at the top, e.g. after a redrive without JavaScript. */
  readonly notice?: { readonly kind: 'ok' | 'error'; readonly text: string };
  /** The Failures view (`/?view=failures`): read on demand, never on a refresh. */
  readonly failures?: FailuresModel;
  /** A group redrive being followed (`/?job=<id>`). */
  readonly job?: RedriveJob;
  /** Edit and retry of one dead letter (`/?edit=<rpc>&messageId=<id>`). */
  readonly edit?: EditModel;
  /** The newest operator actions. */
  readonly audit?: readonly AuditEntry[] | { readonly error: string };
  /** The Replay form and the replay followed (`/?replay=<name>`). */
  readonly replay?: ReplayModel;
}

/** `2026-11-25 10:22:05` (UTC) for an epoch-ms instant; empty for none. */
function formatTime(ms: number | undefined): string {
  if (!ms) return '';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** `10:22:05` with the whole instant in its title, for one-line rows. */
function shortTime(ms: number | undefined): SafeHtml {
  if (!ms) return html``;
  return html`<time datetime="${new Date(ms).toISOString()}" title="${formatTime(ms)} UTC">${formatTime(ms).slice(11)}</time>`;
}

function time(ms: number | undefined): SafeHtml {
  if (!ms) return html``;
  return html`<time datetime="${new Date(ms).toISOString()}">${formatTime(ms)}</time>`;
}

/** Error text longer than this (about two lines of the column) is clamped and can be expanded. */
const CLAMP_ERROR_CHARS = 100;

/**
 * A "last error" cell's content: short text as is; longer text clamped to two lines in a
 * `<details>` that opens to the whole text (no script needed), which is also its `title`.
 * `key` names the delivery, so the script keeps an opened one open when it refreshes the table
 * (it renders the same markup).
 */
function lastErrorCell(
  e: { readonly name: string; readonly message: string } | undefined,
  key: string,
): SafeHtml | string {
  if (!e) return '';
  const text = `${e.name}: ${e.message}`;
  if (text.length <= CLAMP_ERROR_CHARS) return text;
  return html`<details class="last-error" title="${text}" data-key="${key}"><summary><span class="clamp">${text}</span></summary></details>`;
}

function statusBadge(status: string): SafeHtml {
  return html`<span class="status status-${status.toLowerCase()}">${status}</span>`;
}

function depthCell(
  rpc: string,
  which: 'queue' | 'dlq',
  depth: QueueDepth,
  field: 'visible' | 'inFlight',
): SafeHtml {
  const value = 'error' in depth ? '–' : depth[field];
  const title = 'error' in depth ? depth.error : undefined;
  const alert = which === 'dlq' && field === 'visible' && typeof value === 'number' && value > 0;
  return html`<td class="num${alert ? ' alert' : ''}" data-depth="${rpc}" data-field="${which}.${field}"${title ? html` title="${title}"` : ''}>${value}</td>`;
}

function lookupHref(eventId: string, eventName?: string): string {
  const q = new URLSearchParams({ eventId, ...(eventName ? { event: eventName } : {}) });
  return `/?${q.toString()}#lookup`;
}

function eventNode(event: GraphEvent): SafeHtml {
  return html`<div class="node event-node">
    <h3 class="node-title">${event.name}</h3>
    ${event.description ? html`<p class="muted">${event.description}</p>` : ''}
    <p class="small">published by <strong>${event.publisher}</strong>${
      event.publishedBy.length > 0 ? html` and by RPC ${event.publishedBy.join(', ')}` : ''
    }</p>
  </div>`;
}

function graphSection(model: PageModel): SafeHtml {
  const depthOf = new Map(model.depths.map((d) => [d.rpc, d]));
  const chip = (rpc: string) => {
    const d = depthOf.get(rpc);
    if (!d) return html``;
    const q = 'error' in d.queue ? '–' : d.queue.visible + d.queue.inFlight;
    const dlq = 'error' in d.dlq ? '–' : d.dlq.visible + d.dlq.inFlight;
    return html`<span class="small muted">queue <span data-chip="${rpc}" data-field="queue.total">${q}</span> · DLQ <span data-chip="${rpc}" data-field="dlq.total"${typeof dlq === 'number' && dlq > 0 ? html` class="chip-alert"` : ''}>${dlq}</span></span>`;
  };
  const unsubscribed = model.graph.rpcs.filter((r) => r.subscribedTo.length === 0);
  return html`<section aria-labelledby="graph-title">
    <h2 id="graph-title">Events → RPCs</h2>
    ${
      model.graph.events.length === 0
        ? html`<p class="muted">The router declares no events.</p>`
        : html`<ul class="graph">${model.graph.events.map(
            (event) => html`<li class="edge-group">
              ${eventNode(event)}
              <div class="arrow" aria-hidden="true">→</div>
              ${
                event.subscribers.length === 0
                  ? html`<p class="muted">No subscribers: events of this name are accepted and delivered nowhere.</p>`
                  : html`<ul class="subscribers" aria-label="Subscribers of ${event.name}">${event.subscribers.map(
                      (s) => html`<li class="node rpc-node">
                        <span class="rpc-name">${s.rpc}</span> ${chip(s.rpc)}
                        ${
                          s.filter
                            ? html`<details><summary>filter</summary><pre>${JSON.stringify(s.filter, null, 2)}</pre></details>`
                            : html`<span class="small muted">every event</span>`
                        }
                      </li>`,
                    )}</ul>`
              }
            </li>`,
          )}</ul>`
    }
    ${
      unsubscribed.length > 0
        ? html`<p class="small muted">Not subscribed to any event: ${unsubscribed.map((r) => r.id).join(', ')}</p>`
        : ''
    }
  </section>`;
}

function queuesSection(model: PageModel): SafeHtml {
  const depthOf = new Map(model.depths.map((d) => [d.rpc, d]));
  return html`<section aria-labelledby="queues-title">
    <h2 id="queues-title">Queues and dead-letter queues</h2>
    <div class="table-wrap"><table class="queues">
      <caption class="sr-only">Messages waiting (visible) and being handled (in flight) per RPC</caption>
      <thead><tr>
        <th scope="col">RPC</th><th scope="col" class="num">Queue visible</th><th scope="col" class="num">In flight</th>
        <th scope="col" class="num">DLQ visible</th><th scope="col" class="num">DLQ in flight</th><th scope="col">Dead letters</th>
      </tr></thead>
      <tbody>${model.graph.rpcs.map((rpc) => {
        const d = depthOf.get(rpc.id) ?? {
          rpc: rpc.id,
          queue: { name: rpc.queueName, error: 'not read' },
          dlq: { name: rpc.dlqName, error: 'not read' },
        };
        const dlqVisible = 'error' in d.dlq ? 0 : d.dlq.visible;
        const action = `${DASHBOARD_PATH}/api/redrive?rpc=${encodeURIComponent(rpc.id)}`;
        return html`<tr data-rpc="${rpc.id}">
          <th scope="row"><span class="rpc-name">${rpc.id}</span><br><span class="small muted">${rpc.queueName}</span></th>
          ${depthCell(rpc.id, 'queue', d.queue, 'visible')}${depthCell(rpc.id, 'queue', d.queue, 'inFlight')}
          ${depthCell(rpc.id, 'dlq', d.dlq, 'visible')}${depthCell(rpc.id, 'dlq', d.dlq, 'inFlight')}
          <td class="actions">
            <a class="button secondary" href="/?peek=${encodeURIComponent(rpc.id)}#dlq-peek" data-peek="${rpc.id}" aria-label="Peek DLQ of ${rpc.id}">Peek DLQ</a>
            <form method="post" action="${action}" class="redrive" data-rpc="${rpc.id}">
              <button type="submit" data-redrive="${rpc.id}"${dlqVisible === 0 ? html` disabled` : ''} aria-label="Redrive the DLQ of ${rpc.id}">Redrive</button>
            </form>
          </td>
        </tr>`;
      })}</tbody>
    </table></div>
  </section>`;
}

function peekSection(model: PageModel): SafeHtml {
  const peek = model.peek;
  let body: SafeHtml;
  if (!peek)
    body = html`<p class="muted">Choose “Peek DLQ” on an RPC to see up to 10 of its dead letters and why they failed.</p>`;
  else if (peek.error) body = html`<p class="error" role="alert">${peek.error}</p>`;
  else if (!peek.messages || peek.messages.length === 0)
    body = html`<p>The DLQ of <strong>${peek.rpc}</strong> is empty (or its messages are being handled right now).</p>`;
  else
    body = html`<p>Dead letters of <strong>${peek.rpc}</strong> (${peek.messages.length} shown):</p>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Event</th><th scope="col">eventId</th><th scope="col">Error</th><th scope="col" class="num">Attempts</th><th scope="col">Failed at</th><th scope="col">Body</th><th scope="col">Retry</th></tr></thead>
        <tbody>${peek.messages.map(
          (m) => html`<tr>
            <td>${m.eventName ?? '–'}</td>
            <td>${m.eventId ? html`<a href="${lookupHref(m.eventId, m.eventName)}" data-lookup="${m.eventId}" data-event="${m.eventName ?? ''}">${m.eventId}</a>` : '–'}</td>
            <td><strong>${m.errorType ?? 'unknown'}</strong>${m.errorMessage ? html`<br>${m.errorMessage}` : ''}${m.errorStack ? html`<details><summary>stack</summary><pre class="stack" data-field="stack">${m.errorStack}</pre></details>` : ''}</td>
            <td class="num">${m.attempts ?? m.receiveCount ?? '–'}</td>
            <td>${m.failedAt ?? ''}</td>
            <td><details><summary>body</summary><pre>${m.body}</pre></details></td>
            <td><a href="/?edit=${encodeURIComponent(peek.rpc)}&amp;messageId=${encodeURIComponent(m.messageId)}#edit" data-edit="${m.messageId}">Edit &amp; retry</a></td>
          </tr>`,
        )}</tbody>
      </table></div>`;
  const dlqName = model.graph.rpcs.find((r) => r.id === peek?.rpc)?.dlqName;
  if (peek && dlqName && !peek.error) body = html`${body}${purgeForm(peek.rpc, dlqName)}`;
  return html`<section aria-labelledby="peek-title" id="dlq-peek">
    <h2 id="peek-title">DLQ peek</h2>
    <div id="peek-result">${body}</div>
  </section>`;
}

function lookupSection(model: PageModel): SafeHtml {
  const l = model.lookup;
  let result: SafeHtml = html``;
  if (l?.error || l?.result?.error)
    result = html`<p class="error" role="alert">${l.error ?? l.result?.error}</p>`;
  else if (l?.result) {
    const r = l.result;
    result =
      r.rows.length === 0
        ? html`<p>No delivery is recorded for <strong>${r.eventId}</strong>${
            r.eventName
              ? html` and no RPC subscribes to ${r.eventName}`
              : html`. Choose its event name to see which RPCs are still pending`
          }.</p>`
        : html`<p>Event <strong>${r.eventId}</strong>${r.eventName ? html` (${r.eventName})` : ''}:</p>
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">RPC</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Updated (UTC)</th><th scope="col">Last error</th></tr></thead>
            <tbody>${r.rows.map(
              (row) => html`<tr>
                <td>${row.rpc}${row.subscribed ? '' : html` <span class="small muted">(not subscribed in this spec)</span>`}</td>
                <td>${statusBadge(row.status)}${row.status === 'PENDING' && row.filtered ? html` <span class="small muted">(or filtered out)</span>` : ''}</td>
                <td class="num">${row.record?.attempts ?? ''}</td>
                <td>${time(row.record?.updatedAt)}</td>
                <td>${lastErrorCell(row.record?.lastError, `${r.eventId} ${row.rpc}`)}</td>
              </tr>`,
            )}</tbody>
          </table></div>`;
  }
  return html`<section aria-labelledby="lookup-title" id="lookup">
    <h2 id="lookup-title">Event lookup</h2>
    <form method="get" action="/" id="lookup-form" class="inline-form">
      <label for="lookup-event-id">eventId</label>
      <input id="lookup-event-id" name="eventId" required value="${l?.eventId ?? ''}" autocomplete="off" spellcheck="false">
      <label for="lookup-event">event</label>
      <select id="lookup-event" name="event">
        <option value="">(from its records)</option>
        ${model.graph.events.map((e) => html`<option value="${e.name}"${l?.eventName === e.name ? html` selected` : ''}>${e.name}</option>`)}
      </select>
      <button type="submit">Look up</button>
    </form>
    <div id="lookup-result">${result}</div>
  </section>`;
}

/** One table row of a delivery (the script renders the same columns). */
function deliveryRow(d: DeliveryRow): SafeHtml {
  // One line: the time of day and the eventId's first 8 characters (both whole in their title).
  return html`<tr>
    <td class="nowrap">${shortTime(d.updatedAt)}</td>
    <td class="nowrap"><a href="${DASHBOARD_PATH}/delivery?eventId=${encodeURIComponent(d.eventId)}" title="Deliveries of this event">${d.eventName}</a></td>
    <td class="nowrap"><a href="${lookupHref(d.eventId, d.eventName)}" data-lookup="${d.eventId}" data-event="${d.eventName}" title="${d.eventId}">${d.eventId.slice(0, 8)}</a></td>
    <td>${d.rpc}</td>
    <td>${statusBadge(d.status)}</td>
    <td class="num">${d.attempts}</td>
    <td>${lastErrorCell(d.lastError, `${d.eventId} ${d.rpc}`)}</td>
  </tr>`;
}

function deliveriesSection(model: PageModel): SafeHtml {
  const d = model.deliveries;
  return html`<section aria-labelledby="deliveries-title">
    <h2 id="deliveries-title">Recent deliveries</h2>
    <p class="small muted" id="deliveries-summary">${deliveriesSummary(d)}</p>
    <div class="table-wrap"><table class="deliveries">
      <thead><tr><th scope="col">Updated (UTC)</th><th scope="col">Event</th><th scope="col">eventId</th><th scope="col">RPC</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Last error</th></tr></thead>
      <tbody id="deliveries-body">${d.items.map(deliveryRow)}</tbody>
    </table></div>
  </section>`;
}

/** The line above the deliveries table (the script writes the same text). */
function deliveriesSummary(d: RecentDeliveries): string {
  if (d.error) return d.error;
  if (d.items.length === 0) return 'No delivery recorded yet. Publish an event and it shows here.';
  return `Newest ${d.items.length} of ${d.scanned} records${d.truncated ? ' read (the table holds more)' : ''}.`;
}

/** The whole page. */
export function renderPage(model: PageModel): string {
  const { graph } = model;
  return `<!doctype html>\n${
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${graph.app} / ${graph.stage} · event-router dashboard</title>
<link rel="icon" href="data:,">
${model.job?.state === 'running' ? html`<meta http-equiv="refresh" content="1">` : ''}
<link rel="stylesheet" href="${DASHBOARD_PATH}/style.css">
<script src="${DASHBOARD_PATH}/client.js" defer></script>
</head>
<body>
<header class="top">
  <div>
    <h1>event-router <span class="muted">·</span> ${graph.app} <span class="muted">/</span> ${graph.stage}</h1>
    <p class="small">Endpoint <code>${model.endpoint}</code> · deliveries table <code>${graph.deliveriesTable}</code> · <a href="${DASHBOARD_PATH}/send">Send an event</a></p>
  </div>
  <nav class="small"><a href="/">Overview</a> · <a href="/?view=failures#failures" id="nav-failures">Failures</a> · <a href="/#audit">Audit</a></nav>
  <p class="small" id="refresh-status">Updated ${formatTime(Date.now())} UTC. Reload the page to refresh.</p>
</header>
<main>
  ${model.notice ? html`<p class="notice notice-${model.notice.kind}" role="status">${model.notice.text}</p>` : ''}
  <p id="action-status" class="notice" role="status" hidden></p>
  ${model.job ? jobSection(model.job) : ''}
  ${model.edit ? editSection(model.edit) : ''}
  ${model.failures ? failuresSection(model.failures) : ''}
  ${graphSection(model)}
  ${queuesSection(model)}
  ${peekSection(model)}
  ${lookupSection(model)}
  ${deliveriesSection(model)}
  ${model.replay ? replaySection(model.replay) : ''}
  ${model.audit ? auditSection(model.audit) : ''}
</main>
</body>
</html>`.value
  }\n`;
}
