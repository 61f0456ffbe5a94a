/**
 * `event-router graph [path] [--format text|mermaid|dot]`: who publishes each event, which RPCs it is
 * delivered to (with their filters), and which events each RPC publishes in turn.
 */
import { formatDiagnostics, loadSpec } from '../../config/load.ts';
import { buildGraph, type Graph, type GraphRpc } from '../../plan/graph.ts';
import { parseCommandArgs, routerFileArgument } from '../args.ts';

export const summary = 'Show the event -> RPC graph (text, Mermaid or Graphviz dot)';
export const usage = `event-router graph [path] [--format text|mermaid|dot]

  path      the router file (default: ./event-router.yaml)
  --format  text (default), mermaid (paste into Markdown) or dot (Graphviz)`;

export const GRAPH_FORMATS = ['text', 'mermaid', 'dot'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** Renders the router's graph (built by lib/plan/graph.ts, as the dashboard and the runtime's status show it). */
export function renderGraph(graph: Graph, format: GraphFormat): string {
  if (format === 'mermaid') return renderMermaid(graph);
  if (format === 'dot') return renderDot(graph);
  return renderText(graph);
}

/** Services in the order the router declares them, each with its RPCs. */
function services(graph: Graph): Array<{ name: string; rpcs: GraphRpc[] }> {
  const out = new Map<string, GraphRpc[]>();
  for (const rpc of graph.rpcs) out.set(rpc.service, [...(out.get(rpc.service) ?? []), rpc]);
  return [...out].map(([name, rpcs]) => ({ name, rpcs }));
}

/** Each subscription as (event, subscriber), events in declaration order. */
function subscriptions(graph: Graph): Array<{ event: string; rpc: string; filter?: unknown }> {
  return graph.events.flatMap((event) => event.subscribers.map((s) => ({ event: event.name, ...s })));
}

/** (rpc, event) for each follow-up an RPC may publish. */
function followUps(graph: Graph): Array<{ rpc: string; event: string }> {
  return graph.rpcs.flatMap((rpc) =>
    graph.events.filter((e) => e.publishedBy.includes(rpc.id)).map((e) => ({ rpc: rpc.id, event: e.name })),
  );
}

function renderText(graph: Graph): string {
  const lines: string[] = [];
  for (const event of graph.events) {
    const from = [
      ...(event.publisher ? [event.publisher] : []),
      ...event.publishedBy.map((rpc) => `${rpc} (follow-up)`),
    ].join(', ');
    lines.push(`${event.name}  <- ${from}`);
    if (event.subscribers.length === 0) lines.push('  (no subscribers)');
    for (const sub of event.subscribers) {
      lines.push(`  -> ${sub.rpc}${sub.filter === undefined ? '' : `  when ${JSON.stringify(sub.filter)}`}`);
    }
  }
  const unreached = graph.rpcs.filter((rpc) => rpc.subscribedTo.length === 0).map((rpc) => rpc.id);
  if (unreached.length > 0) lines.push('', `RPCs no event reaches: ${unreached.join(', ')}`);
  return lines.join('\n');
}

/** A node id made of letters, digits and underscores (stable for a given name). */
function nodeId(kind: 'e' | 'r' | 'p', name: string): string {
  return `${kind}_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
}

function mermaidLabel(text: string): string {
  return `"${text.replace(/"/g, '#quot;')}"`;
}

function renderMermaid(graph: Graph): string {
  const lines = ['flowchart LR'];
  const publishers = new Set(graph.events.map((event) => event.publisher).filter(Boolean));
  for (const publisher of publishers) lines.push(`  ${nodeId('p', publisher)}[${mermaidLabel(publisher)}]`);
  for (const event of graph.events) lines.push(`  ${nodeId('e', event.name)}{{${mermaidLabel(event.name)}}}`);
  for (const service of services(graph)) {
    lines.push(`  subgraph ${nodeId('p', `svc_${service.name}`)}[${mermaidLabel(service.name)}]`);
    for (const rpc of service.rpcs) lines.push(`    ${nodeId('r', rpc.id)}(${mermaidLabel(rpc.method)})`);
    lines.push('  end');
  }
  for (const event of graph.events)
    if (event.publisher) lines.push(`  ${nodeId('p', event.publisher)} --> ${nodeId('e', event.name)}`);
  for (const sub of subscriptions(graph)) {
    const label = sub.filter === undefined ? '' : `|${mermaidLabel(JSON.stringify(sub.filter))}|`;
    lines.push(`  ${nodeId('e', sub.event)} -->${label} ${nodeId('r', sub.rpc)}`);
  }
  for (const f of followUps(graph)) lines.push(`  ${nodeId('r', f.rpc)} -.-> ${nodeId('e', f.event)}`);
  return lines.join('\n');
}

function dotString(text: string): string {
  return JSON.stringify(text);
}

function renderDot(graph: Graph): string {
  const lines = ['digraph router {', '  rankdir=LR;', '  node [fontname="Helvetica"];'];
  const publishers = new Set(graph.events.map((event) => event.publisher).filter(Boolean));
  for (const publisher of publishers)
    lines.push(`  ${dotString(`pub:${publisher}`)} [label=${dotString(publisher)}, shape=box];`);
  for (const event of graph.events)
    lines.push(`  ${dotString(`event:${event.name}`)} [label=${dotString(event.name)}, shape=hexagon];`);
  for (const service of services(graph)) {
    lines.push(
      `  subgraph ${dotString(`cluster_${service.name}`)} {`,
      `    label=${dotString(service.name)};`,
    );
    for (const rpc of service.rpcs)
      lines.push(`    ${dotString(`rpc:${rpc.id}`)} [label=${dotString(rpc.method)}, shape=ellipse];`);
    lines.push('  }');
  }
  for (const event of graph.events)
    if (event.publisher)
      lines.push(`  ${dotString(`pub:${event.publisher}`)} -> ${dotString(`event:${event.name}`)};`);
  for (const sub of subscriptions(graph)) {
    const label = sub.filter === undefined ? '' : ` [label=${dotString(JSON.stringify(sub.filter))}]`;
    lines.push(`  ${dotString(`event:${sub.event}`)} -> ${dotString(`rpc:${sub.rpc}`)}${label};`);
  }
  for (const f of followUps(graph))
    lines.push(`  ${dotString(`rpc:${f.rpc}`)} -> ${dotString(`event:${f.event}`)} [style=dashed];`);
  lines.push('}');
  return lines.join('\n');
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { format: { type: 'string', short: 'f' } }, usage);
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const format = (values.format ?? 'text') as GraphFormat;
  if (!GRAPH_FORMATS.includes(format)) {
    console.error(`--format is "${values.format}"; use one of ${GRAPH_FORMATS.join(', ')}.`);
    return 2;
  }
  const file = routerFileArgument('graph', positionals, usage);
  if (typeof file === 'number') return file;
  const result = loadSpec(file);
  if (!result.spec) {
    console.error(formatDiagnostics(result.diagnostics));
    return 1;
  }
  console.log(renderGraph(buildGraph(result.spec), format));
  return 0;
}
