// The dashboard's script: refreshes depths and deliveries every 2 s through the JSON API and turns
// the lookup, peek and redrive forms into in-page actions. Everything is rendered with DOM nodes and
// textContent, never as markup. Without this script the page still shows everything, as of its load.
const API = '/_dashboard/api';
const REFRESH_MS = 2000;

/** Creates an element; string children become text nodes. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return node;
}

async function getJson(path, init) {
  const response = await fetch(API + path, { ...init, headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function formatTime(ms) {
  return ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '';
}

function time(ms) {
  return ms ? el('time', { datetime: new Date(ms).toISOString() }, formatTime(ms)) : '';
}

/** `10:22:05`, the whole instant in its title (one-line rows). */
function shortTime(ms) {
  return ms
    ? el(
        'time',
        { datetime: new Date(ms).toISOString(), title: `${formatTime(ms)} UTC` },
        formatTime(ms).slice(11),
      )
    : '';
}

/** A lookup link showing the eventId's first 8 characters (the whole id in its title). */
function shortLookupLink(eventId, eventName) {
  return el(
    'a',
    { href: lookupHref(eventId, eventName), 'data-lookup': eventId, 'data-event': eventName, title: eventId },
    eventId.slice(0, 8),
  );
}

function statusBadge(status) {
  return el('span', { class: `status status-${status.toLowerCase()}` }, status);
}

/** A scrollable table: `head` are the column titles (Attempts is right-aligned), `rows` its `tr` elements. */
function dataTable(head, rows) {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          head.map((h) => el('th', { scope: 'col', class: h === 'Attempts' ? 'num' : undefined }, h)),
        ),
      ),
      el('tbody', {}, rows),
    ),
  );
}

function lookupHref(eventId, eventName) {
  const q = new URLSearchParams({ eventId });
  if (eventName) q.set('event', eventName);
  return `/?${q}#lookup`;
}

function lookupLink(eventId, eventName) {
  return el(
    'a',
    { href: lookupHref(eventId, eventName), 'data-lookup': eventId, 'data-event': eventName },
    eventId,
  );
}

function say(text, kind) {
  const status = document.getElementById('action-status');
  if (!status) return;
  status.textContent = text;
  status.className = `notice notice-${kind}`;
  status.hidden = false;
}

// --- depths -------------------------------------------------------------------------------------

function updateDepths(rpcs) {
  const byRpc = new Map(rpcs.map((r) => [r.rpc, r]));
  for (const cell of document.querySelectorAll('[data-depth]')) {
    const entry = byRpc.get(cell.dataset.depth);
    const [which, field] = (cell.dataset.field ?? '').split('.');
    const depth = entry?.[which];
    if (!depth) continue;
    cell.textContent = depth.error ? '–' : String(depth[field]);
    if (depth.error) cell.title = depth.error;
    else cell.removeAttribute('title');
    cell.classList.toggle(
      'alert',
      which === 'dlq' && field === 'visible' && !depth.error && depth.visible > 0,
    );
  }
  for (const chip of document.querySelectorAll('[data-chip]')) {
    const entry = byRpc.get(chip.dataset.chip);
    const depth = entry?.[(chip.dataset.field ?? '').split('.')[0]];
    if (!depth) continue;
    chip.textContent = depth.error ? '–' : String(depth.visible + depth.inFlight);
    if (chip.dataset.field === 'dlq.total')
      chip.classList.toggle('chip-alert', !depth.error && depth.visible + depth.inFlight > 0);
  }
  for (const button of document.querySelectorAll('button[data-redrive]')) {
    const dlq = byRpc.get(button.dataset.redrive)?.dlq;
    if (dlq && button.dataset.busy !== 'true') button.disabled = Boolean(dlq.error) || dlq.visible === 0;
  }
}

// --- deliveries ---------------------------------------------------------------------------------

function deliveriesSummary(d) {
  if (d.error) return d.error;
  if (d.items.length === 0) return 'No delivery recorded yet. Publish an event and it shows here.';
  return `Newest ${d.items.length} of ${d.scanned} records${d.truncated ? ' read (the table holds more)' : ''}.`;
}

// Error text longer than this is clamped to two lines and opens to the whole text (as page.ts does).
const CLAMP_ERROR_CHARS = 100;

/** A "last error" cell's content; `key` names its delivery so a refresh keeps it open. */
function lastError(e, key) {
  if (!e) return '';
  const text = `${e.name}: ${e.message}`;
  if (text.length <= CLAMP_ERROR_CHARS) return text;
  return el(
    'details',
    { class: 'last-error', title: text, 'data-key': key },
    el('summary', {}, el('span', { class: 'clamp' }, text)),
  );
}

/** Replaces the children of `target`, keeping open the long errors that were open. */
function replaceKeepingOpen(target, ...children) {
  const open = new Set(
    [...target.querySelectorAll('details.last-error[open]')].map((node) => node.getAttribute('data-key')),
  );
  target.replaceChildren(...children);
  for (const node of target.querySelectorAll('details.last-error')) {
    if (open.has(node.getAttribute('data-key'))) node.open = true;
  }
}

function renderDeliveries(d) {
  const body = document.getElementById('deliveries-body');
  const summary = document.getElementById('deliveries-summary');
  if (summary) summary.textContent = deliveriesSummary(d);
  if (!body) return;
  replaceKeepingOpen(
    body,
    ...d.items.map((row) =>
      el(
        'tr',
        {},
        el('td', { class: 'nowrap' }, shortTime(row.updatedAt)),
        el(
          'td',
          { class: 'nowrap' },
          el(
            'a',
            {
              href: `/_dashboard/delivery?eventId=${encodeURIComponent(row.eventId)}`,
              title: 'Deliveries of this event',
            },
            row.eventName,
          ),
        ),
        el('td', { class: 'nowrap' }, shortLookupLink(row.eventId, row.eventName)),
        el('td', {}, row.rpc),
        el('td', {}, statusBadge(row.status)),
        el('td', { class: 'num' }, String(row.attempts)),
        el('td', {}, lastError(row.lastError, `${row.eventId} ${row.rpc}`)),
      ),
    ),
  );
}

// --- event lookup -------------------------------------------------------------------------------

let activeLookup;

function renderLookup(r) {
  const target = document.getElementById('lookup-result');
  if (!target) return;
  if (r.error) {
    target.replaceChildren(el('p', { class: 'error', role: 'alert' }, r.error));
    return;
  }
  if (r.rows.length === 0) {
    target.replaceChildren(
      el(
        'p',
        {},
        'No delivery is recorded for ',
        el('strong', {}, r.eventId),
        r.eventName
          ? ` and no RPC subscribes to ${r.eventName}.`
          : '. Choose its event name to see which RPCs are still pending.',
      ),
    );
    return;
  }
  replaceKeepingOpen(
    target,
    el('p', {}, 'Event ', el('strong', {}, r.eventId), r.eventName ? ` (${r.eventName})` : '', ':'),
    dataTable(
      ['RPC', 'State', 'Attempts', 'Updated (UTC)', 'Last error'],
      r.rows.map((row) =>
        el(
          'tr',
          {},
          el(
            'td',
            {},
            row.rpc,
            row.subscribed ? '' : el('span', { class: 'small muted' }, ' (not subscribed in this spec)'),
          ),
          el(
            'td',
            {},
            statusBadge(row.status),
            row.status === 'PENDING' && row.filtered
              ? el('span', { class: 'small muted' }, ' (or filtered out)')
              : '',
          ),
          el('td', { class: 'num' }, row.record ? String(row.record.attempts) : ''),
          el('td', {}, time(row.record?.updatedAt)),
          el('td', {}, lastError(row.record?.lastError, `${r.eventId} ${row.rpc}`)),
        ),
      ),
    ),
  );
}

async function lookup(eventId, eventName) {
  activeLookup = { eventId, eventName };
  const q = eventName ? `?event=${encodeURIComponent(eventName)}` : '';
  try {
    renderLookup(await getJson(`/events/${encodeURIComponent(eventId)}${q}`));
  } catch (error) {
    renderLookup({ eventId, rows: [], error: error.message });
  }
}

function startLookup(eventId, eventName) {
  const input = document.getElementById('lookup-event-id');
  const select = document.getElementById('lookup-event');
  if (input) input.value = eventId;
  if (select) select.value = eventName ?? '';
  history.replaceState(null, '', lookupHref(eventId, eventName));
  document.getElementById('lookup')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  return lookup(eventId, eventName);
}

// --- DLQ peek -----------------------------------------------------------------------------------

function renderPeek(rpc, messages) {
  const target = document.getElementById('peek-result');
  if (!target) return;
  if (messages.length === 0) {
    target.replaceChildren(
      el(
        'p',
        {},
        'The DLQ of ',
        el('strong', {}, rpc),
        ' is empty (or its messages are being handled right now).',
      ),
    );
    return;
  }
  target.replaceChildren(
    el('p', {}, 'Dead letters of ', el('strong', {}, rpc), ` (${messages.length} shown):`),
    dataTable(
      ['Event', 'eventId', 'Error', 'Attempts', 'Failed at', 'Body', 'Retry'],
      messages.map((m) =>
        el(
          'tr',
          {},
          el('td', {}, m.eventName ?? '–'),
          el('td', {}, m.eventId ? lookupLink(m.eventId, m.eventName) : '–'),
          el(
            'td',
            {},
            el('strong', {}, m.errorType ?? 'unknown'),
            m.errorMessage ? [el('br'), m.errorMessage] : '',
          ),
          el('td', { class: 'num' }, String(m.attempts ?? m.receiveCount ?? '–')),
          el('td', {}, m.failedAt ?? ''),
          el('td', {}, el('details', {}, el('summary', {}, 'body'), el('pre', {}, m.body))),
          el(
            'td',
            {},
            el(
              'a',
              {
                href: `/?edit=${encodeURIComponent(rpc)}&messageId=${encodeURIComponent(m.messageId)}#edit`,
                'data-edit': m.messageId,
              },
              'Edit & retry',
            ),
          ),
        ),
      ),
    ),
  );
}

// --- group redrive progress ------------------------------------------------------------------------

/** Follows a running group redrive (`#job[data-state=running]`) until it ends, then shows its result. */
async function followJob() {
  const section = document.querySelector('#job[data-state="running"]');
  if (!section) return;
  const id = section.getAttribute('data-job');
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    let job;
    try {
      job = await getJson(`/jobs/${encodeURIComponent(id)}`);
    } catch {
      continue;
    }
    const bar = section.querySelector('progress');
    if (bar) bar.value = job.moved;
    const text = section.querySelector('#job-progress');
    if (text) text.textContent = text.textContent.replace(/^\d+/, String(job.moved));
    if (job.state !== 'running') {
      location.reload();
      return;
    }
  }
}

async function peek(rpc) {
  const target = document.getElementById('peek-result');
  target?.replaceChildren(el('p', { class: 'muted' }, `Reading the DLQ of ${rpc} …`));
  document.getElementById('dlq-peek')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  try {
    const result = await getJson(`/dlq?rpc=${encodeURIComponent(rpc)}`);
    renderPeek(rpc, result.messages);
  } catch (error) {
    target?.replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message));
  }
}

// --- redrive ------------------------------------------------------------------------------------

async function redrive(rpc, button) {
  button.disabled = true;
  button.dataset.busy = 'true';
  try {
    await getJson(`/redrive?rpc=${encodeURIComponent(rpc)}`, { method: 'POST' });
    say(`Redrive of the DLQ of ${rpc} started: its messages are moving back into its queue.`, 'ok');
  } catch (error) {
    say(error.message, 'error');
  } finally {
    delete button.dataset.busy;
    await refresh();
  }
}

// --- refresh loop -------------------------------------------------------------------------------

let timer;

async function refresh() {
  const status = document.getElementById('refresh-status');
  try {
    const [queues, deliveries] = await Promise.all([getJson('/queues'), getJson('/deliveries?limit=100')]);
    updateDepths(queues.rpcs);
    renderDeliveries(deliveries);
    if (activeLookup) await lookup(activeLookup.eventId, activeLookup.eventName);
    if (status) status.textContent = `Live · updated ${formatTime(Date.now())} UTC (every 2 s)`;
    document.body.dataset.refreshed = String(Date.now());
  } catch (error) {
    if (status) status.textContent = `Refresh failed: ${error.message}. Retrying …`;
  }
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (!document.hidden) await refresh();
    schedule();
  }, REFRESH_MS);
}

function wire() {
  document.getElementById('lookup-form')?.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const eventId = String(form.get('eventId') ?? '').trim();
    if (eventId) startLookup(eventId, String(form.get('event') ?? '') || undefined);
  });
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const peekLink = target?.closest('[data-peek]');
    if (peekLink) {
      event.preventDefault();
      peek(peekLink.getAttribute('data-peek'));
      return;
    }
    const lookupLinkEl = target?.closest('[data-lookup]');
    if (lookupLinkEl) {
      event.preventDefault();
      startLookup(
        lookupLinkEl.getAttribute('data-lookup'),
        lookupLinkEl.getAttribute('data-event') || undefined,
      );
    }
  });
  for (const form of document.querySelectorAll('form.redrive')) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const button = form.querySelector('button');
      if (button) redrive(form.dataset.rpc, button);
    });
  }
  const params = new URLSearchParams(location.search);
  const eventId = params.get('eventId');
  if (eventId) activeLookup = { eventId, eventName: params.get('event') || undefined };
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh();
  });
  refresh().then(schedule);
  followJob();
}

wire();
