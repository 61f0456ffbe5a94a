/**
 * The dashboard's delivery view (`/_dashboard/delivery?eventId=...`) and send-event page
 * (`/_dashboard/send`). The delivery view shows one event: its payload as it was put on the bus, and
 * per subscribed RPC its stored state (attempts, first attempt, last change, result, last error) with
 * the worker's log lines about it, then the events published while handling it as a causation tree,
 * each linking to its own view. The send page picks an event, fills an example payload from its
 * schema and publishes it through the local publish API as any HTTP client does (send.js), showing
 * the API's per-field errors.
 */
import type { EventLog, LoggedEvent, LoggedLine } from '../runtime/event-log.ts';
import { exampleFor } from '../runtime/example-event.ts';
import type { DashboardData, LookupRow } from './data.ts';
import type { Graph } from './graph.ts';
import { html, type SafeHtml } from './html.ts';
import { DASHBOARD_PATH } from './page.ts';

export interface FollowUp {
  readonly eventId: string;
  readonly name: string;
  readonly children: readonly FollowUp[];
}

export interface DeliveryView {
  readonly eventId: string;
  readonly eventName?: string;
  /** The event as routed, when the runtime still holds it (recent events, since it started). */
  readonly event?: LoggedEvent;
  readonly rows: ReadonlyArray<LookupRow & { readonly lines: readonly LoggedLine[] }>;
  readonly followUps: readonly FollowUp[];
  readonly error?: string;
}

/** Follow-ups of `eventId`, `depth` levels down. */
function followUpsOf(log: EventLog | undefined, eventId: string, depth = 5): FollowUp[] {
  if (!log || depth === 0) return [];
  return log.followUps(eventId).map((id) => ({
    eventId: id,
    name: log.event(id)?.name ?? '',
    children: followUpsOf(log, id, depth - 1),
  }));
}

/** Everything the delivery view of `eventId` shows. */
export async function loadDeliveryView(
  eventId: string,
  data: DashboardData,
  log: EventLog | undefined,
): Promise<DeliveryView> {
  const event = log?.event(eventId);
  const lookup = await data.lookup(eventId, event?.name);
  const lines = log?.logLines(eventId) ?? [];
  const name = lookup.eventName ?? event?.name;
  return {
    eventId,
    ...(name ? { eventName: name } : {}),
    ...(event ? { event } : {}),
    rows: lookup.rows.map((row) => ({ ...row, lines: lines.filter((l) => l.rpc === row.rpc) })),
    followUps: followUpsOf(log, eventId),
    ...(lookup.error ? { error: lookup.error } : {}),
  };
}

export function deliveryHref(eventId: string): string {
  return `${DASHBOARD_PATH}/delivery?eventId=${encodeURIComponent(eventId)}`;
}

function iso(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 23) : '–';
}

function pretty(text: string | undefined): string {
  if (text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function tree(nodes: readonly FollowUp[]): SafeHtml {
  return html`<ul class="causation">${nodes.map(
    (n) =>
      html`<li><a href="${deliveryHref(n.eventId)}">${n.name || 'event'}</a> <code class="small">${n.eventId}</code>${n.children.length > 0 ? tree(n.children) : ''}</li>`,
  )}</ul>`;
}

function rpcCard(row: DeliveryView['rows'][number]): SafeHtml {
  const r = row.record;
  const took =
    r?.completedAt && r.firstAttemptAt
      ? `${r.completedAt - r.firstAttemptAt} ms from first claim`
      : undefined;
  return html`<article class="rpc-delivery" data-rpc="${row.rpc}">
    <h3><span class="rpc-name">${row.rpc}</span> <span class="status status-${row.status.toLowerCase()}">${row.status}</span>${
      row.status === 'PENDING' && row.filtered
        ? html` <span class="small muted">(or filtered out)</span>`
        : ''
    }</h3>
    <dl class="facts">
      <dt>Attempts</dt><dd data-field="attempts">${r?.attempts ?? 0}</dd>
      <dt>First attempt</dt><dd>${iso(r?.firstAttemptAt)}</dd>
      <dt>Last change</dt><dd>${iso(r?.updatedAt)}</dd>
      ${r?.completedAt ? html`<dt>Completed</dt><dd>${iso(r.completedAt)}${took ? html` <span class="muted small">(${took})</span>` : ''}</dd>` : ''}
      ${r?.deadAt ? html`<dt>Dead-lettered</dt><dd>${iso(r.deadAt)}</dd>` : ''}
    </dl>
    ${r?.lastError ? html`<p class="error"><strong>${r.lastError.name}</strong>: ${r.lastError.message}${r.lastError.retryable ? html` <span class="small muted">(retryable)</span>` : ''}</p>${r.lastError.stack ? html`<pre class="stack" data-field="stack">${r.lastError.stack}</pre>` : ''}` : ''}
    ${r?.result !== undefined ? html`<details open><summary>Result</summary><pre data-field="result">${pretty(r.result)}</pre></details>` : ''}
    ${
      row.lines.length > 0
        ? html`<details><summary>Worker log (${row.lines.length} lines)</summary><pre class="log">${row.lines.map((l) => `${l.line}\n`).join('')}</pre></details>`
        : ''
    }
  </article>`;
}

function shell(title: string, body: SafeHtml, script?: string): string {
  return `<!doctype html>\n${
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · event-router dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${DASHBOARD_PATH}/style.css">
${script ? html`<script src="${DASHBOARD_PATH}/${script}" defer></script>` : ''}
</head>
<body>
<header class="top"><div><h1><a href="/">event-router</a> <span class="muted">·</span> ${title}</h1>
<p class="small"><a href="/">Dashboard</a> · <a href="${DASHBOARD_PATH}/send">Send an event</a></p></div></header>
<main>${body}</main>
</body>
</html>`.value
  }\n`;
}

/** The delivery view page. */
export function renderDeliveryPage(view: DeliveryView): string {
  const e = view.event;
  const body = html`<section aria-labelledby="event-title">
    <h2 id="event-title">${view.eventName ?? 'Event'} <code class="small">${view.eventId}</code></h2>
    ${view.error ? html`<p class="error" role="alert">${view.error}</p>` : ''}
    ${
      e
        ? html`<dl class="facts">
        <dt>Put on the bus</dt><dd>${e.time}</dd>
        <dt>Source</dt><dd>${e.source}</dd>
        ${e.correlationId ? html`<dt>Correlation</dt><dd><code>${e.correlationId}</code></dd>` : ''}
        ${e.causationId ? html`<dt>Caused by</dt><dd><a href="${deliveryHref(e.causationId)}">${e.causationId}</a></dd>` : ''}
      </dl>
      <details open><summary>Payload</summary><pre id="payload">${JSON.stringify(e.payload, null, 2)}</pre></details>`
        : html`<p class="muted small">The payload is not held: the runtime keeps the events it routed since it started (the most recent 2,000).</p>`
    }
  </section>
  <section aria-labelledby="rpcs-title">
    <h2 id="rpcs-title">Deliveries</h2>
    ${view.rows.length === 0 ? html`<p class="muted">No RPC subscribes to this event and no delivery is recorded.</p>` : view.rows.map(rpcCard)}
  </section>
  <section aria-labelledby="followups-title">
    <h2 id="followups-title">Follow-up events</h2>
    ${view.followUps.length === 0 ? html`<p class="muted">None published while handling it.</p>` : tree(view.followUps)}
  </section>`;
  return shell(`delivery ${view.eventId.slice(0, 8)}`, body);
}

/** The send-event page: one form, an example payload per event (from its schema). */
export function renderSendPage(graph: Graph, publishPath: string): string {
  const first = graph.events[0];
  const example = (schema: unknown) => JSON.stringify(exampleFor(schema as Record<string, unknown>), null, 2);
  const body = html`<section aria-labelledby="send-title">
    <h2 id="send-title">Send an event</h2>
    <p class="small muted">Published through the local publish API (<code>POST ${publishPath}</code>), as any HTTP client would.</p>
    <form id="send-form" data-publish="${publishPath}">
      <label for="send-event">Event</label>
      <select id="send-event" name="event">${graph.events.map(
        (e) => html`<option value="${e.name}" data-example="${example(e.schema)}">${e.name}</option>`,
      )}</select>
      <label for="send-payload">Payload (JSON)</label>
      <textarea id="send-payload" name="payload" rows="14" spellcheck="false">${first ? example(first.schema) : '{}'}</textarea>
      <button type="submit">Publish</button>
    </form>
    <div id="send-result" role="status"></div>
  </section>`;
  return shell('send an event', body, 'send.js');
}
