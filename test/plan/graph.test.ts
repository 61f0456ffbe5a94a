import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderGraph } from '../../lib/cli/commands/graph.ts';
import { buildGraph } from '../../lib/plan/graph.ts';
import { makeSpec } from '../support/specs.ts';

const spec = buildGraph(
  makeSpec({
    rpcs: [
      { id: 'Ledger/Record', publishes: ['ledger.recorded'] },
      { id: 'Receipts/Request' },
      { id: 'Reports/Update' },
      { id: 'Idle/Nothing' },
    ],
    subscriptions: [
      { event: 'card.used', rpc: 'Ledger/Record' },
      {
        event: 'card.used',
        rpc: 'Receipts/Request',
        filter: { payload: { amount: [{ numeric: ['>=', 7500] }] } },
      },
      { event: 'ledger.recorded', rpc: 'Reports/Update' },
    ],
  }),
);

describe('graph', () => {
  it('lists each event with its publisher, its subscribers and their filters (text)', () => {
    assert.equal(
      renderGraph(spec, 'text'),
      [
        'card.used  <- TestPublisher',
        '  -> Ledger/Record',
        '  -> Receipts/Request  when {"payload":{"amount":[{"numeric":[">=",7500]}]}}',
        'ledger.recorded  <- Ledger/Record (follow-up)',
        '  -> Reports/Update',
        '',
        'RPCs no event reaches: Idle/Nothing',
      ].join('\n'),
    );
  });

  it('draws subscriptions, filters and follow-up publishing in Mermaid', () => {
    const mermaid = renderGraph(spec, 'mermaid');
    assert.ok(mermaid.startsWith('flowchart LR\n'));
    assert.match(mermaid, /e_card_used --> r_Ledger_Record/);
    assert.match(
      mermaid,
      /e_card_used -->\|"\{#quot;payload#quot;.*\|" r_Receipts_Request|e_card_used -->\|".*"\| r_Receipts_Request/,
    );
    assert.match(mermaid, /r_Ledger_Record -\.-> e_ledger_recorded/);
  });

  it('draws the same graph in Graphviz dot', () => {
    const dot = renderGraph(spec, 'dot');
    assert.ok(dot.startsWith('digraph router {'));
    assert.match(dot, /"event:card\.used" -> "rpc:Ledger\/Record";/);
    assert.match(dot, /"rpc:Ledger\/Record" -> "event:ledger\.recorded" \[style=dashed\];/);
    assert.ok(dot.trimEnd().endsWith('}'));
  });
});
