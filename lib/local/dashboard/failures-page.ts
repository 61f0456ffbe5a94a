/**
 * The dashboard's failure views, rendered on the server so they work without JavaScript: failure
 * groups with a rate-limited group redrive, the progress of a redrive, edit-and-retry of one dead
 * letter with per-field schema errors, purge of a DLQ (type its name), and the audit trail.
 */

import type { Violation } from '../../../common/payload-schema.ts';
import type { AuditEntry } from '../../ops/audit.ts';
import type { FailureReport, RedriveSetReport } from '../../ops/operations.ts';
import { countsLine, type ReplayStatus } from '../../ops/replay.ts';
import { html, type SafeHtml } from './html.ts';

export const API = '/_dashboard/api';

/** A group redrive running in the dashboard process. */
export interface RedriveJob {
  readonly id: string;
  readonly rpc: string;
  readonly what: string;
  total: number;
  moved: number;
  state: 'running' | 'done' | 'failed';
  report?: RedriveSetReport;
  error?: string;
  readonly rate?: number;
}

export interface FailuresModel {
  /** The id under which the group sets of this reading are frozen for a redrive. */
  readonly snapshot?: string;
  readonly report?: FailureReport;
  readonly error?: string;
}

export interface EditModel {
  readonly rpc: string;
  readonly messageId: string;
  readonly eventName?: string;
  /** The payload text in the form (the original, or what the operator submitted). */
  readonly payloadText?: string;
  readonly violations?: readonly Violation[];
  readonly error?: string;
}

function failureRow(snapshot: string | undefined, g: FailureReport['groups'][number]): SafeHtml {
  const action = `${API}/failures/redrive?snapshot=${encodeURIComponent(snapshot ?? '')}&group=${encodeURIComponent(g.id)}`;
  return html`<tr data-group="${g.id}">
    <td><code>${g.id}</code></td>
    <td>${g.rpc}</td>
    <td><strong>${g.errorType}</strong><br><span class="small">${g.signature}</span>
      <details><summary>sample error</summary><pre>${g.sampleError}</pre><p class="small muted">${g.source === 'index' ? g.sampleMessageId : html`message ${g.sampleMessageId}`}</p></details>
      <span class="small muted" data-field="source">${g.source === 'index' ? 'from DEAD records' : g.source === 'dlq' ? 'from the DLQ' : 'from DEAD records and the DLQ'}</span></td>
    <td class="num" data-field="count">${g.count}</td>
    <td class="small">${g.firstFailedAt ?? '?'}<br>${g.lastFailedAt ?? '?'}</td>
    <td class="small">${g.eventIds.map((id, i) => html`${i > 0 ? ', ' : ''}<a href="/?eventId=${encodeURIComponent(id)}#lookup">${id}</a>`)}
      ${g.source === 'index' ? '' : html`<br><a href="/?edit=${encodeURIComponent(g.rpc)}&amp;messageId=${encodeURIComponent(g.sampleMessageId)}#edit" data-edit="${g.sampleMessageId}">Edit &amp; retry the sample</a>`}</td>
    <td class="actions">
      <form method="post" action="${action}" class="redrive-group" data-group="${g.id}">
        <label class="small" for="rate-${g.id}">rate /s</label>
        <input id="rate-${g.id}" name="rate" type="number" min="1" max="500" size="4" placeholder="max">
        <button type="submit" data-redrive-group="${g.id}" aria-label="Redrive the ${g.count} message(s) of group ${g.id}">Redrive ${g.count}</button>
      </form>
    </td>
  </tr>`;
}

/** The Failures view: every dead letter grouped, each group with its redrive. */
export function failuresSection(model: FailuresModel): SafeHtml {
  let body: SafeHtml;
  if (model.error) body = html`<p class="error" role="alert">${model.error}</p>`;
  else if (!model.report || model.report.groups.length === 0) body = html`<p>No dead letters.</p>`;
  else {
    const r = model.report;
    const partial = r.rpcs.filter((x) => !x.complete || x.error);
    body = html`${partial.map(
      (x) =>
        html`<p class="notice notice-error">${x.rpc}: ${x.error ?? `read ${x.read} of about ${x.approximate} dead letters in the time allowed; the groups are partial.`}</p>`,
    )}
      <p class="small muted">Read at ${r.takenAt} without moving anything. A group redrive moves the messages the group had at that moment; later arrivals stay in the DLQ.</p>
      <div class="table-wrap"><table class="failures">
        <thead><tr><th scope="col">Group</th><th scope="col">RPC</th><th scope="col">Error</th><th scope="col" class="num">Count</th><th scope="col">First / last failure</th><th scope="col">Events</th><th scope="col">Redrive</th></tr></thead>
        <tbody>${r.groups.map((g) => failureRow(model.snapshot, g))}</tbody>
      </table></div>`;
  }
  return html`<section aria-labelledby="failures-title" id="failures">
    <h2 id="failures-title">Failures</h2>
    <p><a class="button secondary" href="/?view=failures#failures">Read the DLQs again</a></p>
    <div id="failures-result">${body}</div>
  </section>`;
}

/** The progress of a group redrive (the page reloads itself every second while it runs). */
export function jobSection(job: RedriveJob): SafeHtml {
  const report = job.report;
  return html`<section aria-labelledby="job-title" id="job" data-job="${job.id}" data-state="${job.state}">
    <h2 id="job-title">Redrive of ${job.what}</h2>
    <p><progress max="${job.total}" value="${job.moved}"></progress>
      <span id="job-progress">${job.moved} of ${job.total} moved to the queue of ${job.rpc}${job.rate ? ` at <= ${job.rate}/s` : ''}</span></p>
    ${job.state === 'running' ? html`<p class="small muted">Running…</p>` : ''}
    ${job.state === 'failed' ? html`<p class="error" role="alert">${job.error ?? 'failed'}</p>` : ''}
    ${
      report
        ? html`<p role="status" id="job-result">Done: ${report.moved.length} of ${report.total} moved${
            report.notFound.length ? `, ${report.notFound.length} no longer in the DLQ` : ''
          }${report.failed.length ? `, ${report.failed.length} refused by SQS (still in the DLQ)` : ''}.</p>`
        : ''
    }
  </section>`;
}

/** Edit and retry one dead letter: its payload in a form, with the schema's complaints per field. */
export function editSection(edit: EditModel): SafeHtml {
  const action = `${API}/edit?rpc=${encodeURIComponent(edit.rpc)}&messageId=${encodeURIComponent(edit.messageId)}`;
  return html`<section aria-labelledby="edit-title" id="edit">
    <h2 id="edit-title">Edit and retry ${edit.messageId}</h2>
    <p class="small">Of <strong>${edit.rpc}</strong>${edit.eventName ? html`, event <strong>${edit.eventName}</strong>` : ''}. The edited copy goes to the RPC's queue as a re-run; the original leaves the DLQ only once the copy is sent.</p>
    ${edit.error ? html`<p class="error" role="alert">${edit.error}</p>` : ''}
    ${
      edit.violations && edit.violations.length > 0
        ? html`<ul class="error violations" role="alert" id="edit-violations">${edit.violations.map(
            (v) => html`<li><code>${v.pointer || '(payload)'}</code> ${v.message}</li>`,
          )}</ul>`
        : ''
    }
    ${
      edit.payloadText !== undefined
        ? html`<form method="post" action="${action}" id="edit-form">
        <label for="edit-payload">payload (JSON)</label><br>
        <textarea id="edit-payload" name="payload" rows="14" cols="80" spellcheck="false">${edit.payloadText}</textarea><br>
        <button type="submit">Send edited copy</button>
      </form>`
        : ''
    }
  </section>`;
}

/** Purge of one DLQ: the operator types the queue name. */
export function purgeForm(rpc: string, dlqName: string): SafeHtml {
  return html`<form method="post" action="${API}/purge?rpc=${encodeURIComponent(rpc)}" class="inline-form purge" data-purge="${rpc}">
    <label for="purge-confirm">Type <code>${dlqName}</code> to purge it</label>
    <input id="purge-confirm" name="confirm" autocomplete="off" spellcheck="false" required>
    <button type="submit" class="danger">Purge DLQ</button>
  </form>`;
}

/** The newest operator actions. */
export function auditSection(entries: readonly AuditEntry[] | { readonly error: string }): SafeHtml {
  let body: SafeHtml;
  if ('error' in entries) body = html`<p class="error">${entries.error}</p>`;
  else if (entries.length === 0) body = html`<p class="muted">No operator action recorded yet.</p>`;
  else
    body = html`<div class="table-wrap"><table class="audit">
      <thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">RPC</th><th scope="col">What</th><th scope="col" class="num">Count</th><th scope="col">Outcome</th></tr></thead>
      <tbody id="audit-body">${entries.map(
        (e) => html`<tr>
          <td>${e.at.replace('T', ' ').slice(0, 19)}</td><td>${e.who}</td><td>${e.action}</td><td>${e.rpc}</td>
          <td>${e.what}${e.detail ? html`<br><span class="small muted">${e.detail}</span>` : ''}</td>
          <td class="num">${e.count}</td><td>${e.outcome}</td>
        </tr>`,
      )}</tbody>
    </table></div>`;
  return html`<section aria-labelledby="audit-title" id="audit">
    <h2 id="audit-title">Audit trail</h2>
    ${body}
  </section>`;
}

/** The Replay form, and the replay being followed (`/?replay=<name>`). */
export interface ReplayModel {
  readonly events: readonly string[];
  readonly rpcs: readonly string[];
  readonly status?: ReplayStatus & { readonly pending: number };
  readonly error?: string;
}

/** Replay a window of the bus archive (lib/ops/replay.ts, as `event-router replay` does), and its progress. */
export function replaySection(model: ReplayModel): SafeHtml {
  const s = model.status;
  const progress = s
    ? html`<div id="replay-progress" data-replay="${s.name}" data-state="${s.state}" role="status">
        <p><strong>${s.name}</strong>: ${s.state}${s.stateReason ? html` (${s.stateReason})` : ''}${s.lastReplayed ? html`, replayed up to ${s.lastReplayed}` : ''}</p>
        <ul>${s.counts.map((c) => html`<li data-rpc="${c.rpc}">${c.rpc}: ${countsLine(c)}</li>`)}</ul>
        ${s.pending ? html`<p class="small muted">${s.pending} message(s) still in these RPCs' queues: the counts may grow. Reload to follow.</p>` : ''}
      </div>`
    : '';
  return html`<section aria-labelledby="replay-title" id="replay">
    <h2 id="replay-title">Replay</h2>
    <p class="small muted">Sends the archived events of a time window again, only through the rules that deliver the chosen events to the chosen RPCs. Completed deliveries are skipped by the dedup (and dead-lettered ones: redrive them); "rerun completed" runs them all again as new attempts.</p>
    ${model.error ? html`<p class="error" role="alert">${model.error}</p>` : ''}
    <form method="post" action="${API}/replay" class="replay">
      <label>From <input name="from" required placeholder="1h or 2026-12-04T20:00:00Z"></label>
      <label>To <input name="to" required value="now"></label>
      <label>Event <select name="event"><option value="">every event</option>${model.events.map((e) => html`<option>${e}</option>`)}</select></label>
      <label>RPC <select name="rpc"><option value="">every RPC</option>${model.rpcs.map((r) => html`<option>${r}</option>`)}</select></label>
      <label><input type="checkbox" name="rerunCompleted" value="true"> rerun completed deliveries</label>
      <button type="submit">Start the replay</button>
    </form>
    ${progress}
  </section>`;
}
