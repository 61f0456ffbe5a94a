// The send-event page's script: the event picker fills in that event's example payload, and the form
// publishes through the local publish API (POST <publish path>, JSON `{event, payload}`) as any HTTP
// client does, then shows the eventId (linked to its delivery view) or the API's per-field errors.
const form = document.getElementById('send-form');
const select = document.getElementById('send-event');
const payload = document.getElementById('send-payload');
const result = document.getElementById('send-result');

function show(...nodes) {
  result.replaceChildren(...nodes);
}

function text(tag, value, attrs = {}) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.textContent = value;
  return node;
}

select?.addEventListener('change', () => {
  const option = select.selectedOptions[0];
  if (option && payload) payload.value = option.getAttribute('data-example') ?? '{}';
});

form?.addEventListener('submit', async (event) => {
  event.preventDefault();
  let body;
  try {
    body = { event: select.value, payload: JSON.parse(payload.value) };
  } catch (error) {
    show(text('p', `The payload is not JSON: ${error.message}`, { class: 'error', role: 'alert' }));
    return;
  }
  show(text('p', 'Publishing ...', { class: 'muted' }));
  try {
    const response = await fetch(form.getAttribute('data-publish'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok && answer.eventId) {
      const link = text('a', answer.eventId, {
        href: `/_dashboard/delivery?eventId=${encodeURIComponent(answer.eventId)}`,
      });
      const line = text('p', `Published ${body.event}: `, { class: 'notice notice-ok' });
      line.append(link);
      show(line);
      return;
    }
    const errors = Array.isArray(answer.errors) ? answer.errors : [];
    const list = document.createElement('ul');
    list.className = 'field-errors';
    for (const e of errors)
      list.append(text('li', `${e.field} ${e.message}`, { 'data-field': String(e.field) }));
    show(
      text('p', `${response.status}: ${answer.message ?? response.statusText}`, {
        class: 'error',
        role: 'alert',
      }),
      ...(errors.length > 0 ? [list] : []),
    );
  } catch (error) {
    show(text('p', `The publish API did not answer: ${error.message}`, { class: 'error', role: 'alert' }));
  }
});
