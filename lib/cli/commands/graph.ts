/**
 * `event-router graph [path] [--format text|mermaid|dot]`: who publishes each event, which RPCs it is
 * delivered to (with their filters), and which events each RPC publishes in turn.
 */
import { formatDiagnostics, loadSpec } from '../../config/load.ts';
import type { RouterSpec } from '../../config/types.ts';
import { parseCommandArgs, routerFileArgument } from '../args.ts';

export const summary = 'Show the event -> RPC graph (text, Mermaid or Graphviz dot)';
export const usage = `event-router graph [path] [--format text|mermaid|dot]

  path      the router file (default: ./event-router.yaml)
  --format  text (default), mermaid (paste into Markdown) or dot (Graphviz)`;

export const GRAPH_FORMATS = ['text', 'mermaid', 'dot'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** Renders the graph of a loaded spec. */
export function renderGraph(spec: RouterSpec, format: GraphFormat): string {
  if (format === 'mermaid') return renderMermaid(spec);
  if (format === 'dot') return renderDot(spec);
  return renderText(spec);
}

function publishersOf(spec: RouterSpec, eventName: string): string[] {
  return spec.services.flatMap((service) =>
    service.rpcs.filter((rpc) => rpc.publishes.includes(eventName)).map((rpc) => rpc.id),
  );
}

/** The external publishers of an event (its RPC publishers are drawn as follow-ups). */
function externalOf(event: RouterSpec['events'][number]): string[] {
  return event.publishers.filter((name) => !name.includes('/'));
}

function renderText(spec: RouterSpec): string {
  const lines: string[] = [];
  for (const event of spec.events) {
    const rpcs = publishersOf(spec, event.name);
    const from = [...externalOf(event), ...rpcs.map((rpc) => `${rpc} (follow-up)`)].join(', ');
    lines.push(`${event.name}  <- ${from}`);
    const subs = spec.subscriptions.filter((sub) => sub.event === event.name);
    if (subs.length === 0) lines.push('  (no subscribers)');
    for (const sub of subs) {
      lines.push(`  -> ${sub.rpc}${sub.filter === undefined ? '' : `  when ${JSON.stringify(sub.filter)}`}`);
    }
  }
  const unreached = spec.services
    .flatMap((service) => service.rpcs.map((rpc) => rpc.id))
    .filter((id) => !spec.subscriptions.some((sub) => sub.rpc === id));
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

function renderMermaid(spec: RouterSpec): string {
  const lines = ['flowchart LR'];
  const publishers = new Set(spec.events.flatMap(externalOf));
  for (const publisher of publishers) lines.push(`  ${nodeId('p', publisher)}[${mermaidLabel(publisher)}]`);
  for (const event of spec.events) lines.push(`  ${nodeId('e', event.name)}{{${mermaidLabel(event.name)}}}`);
  for (const service of spec.services) {
    lines.push(`  subgraph ${nodeId('p', `svc_${service.name}`)}[${mermaidLabel(service.name)}]`);
    for (const rpc of service.rpcs) lines.push(`    ${nodeId('r', rpc.id)}(${mermaidLabel(rpc.method)})`);
    lines.push('  end');
  }
  for (const event of spec.events)
    for (const publisher of externalOf(event))
      lines.push(`  ${nodeId('p', publisher)} --> ${nodeId('e', event.name)}`);
  for (const sub of spec.subscriptions) {
    const label = sub.filter === undefined ? '' : `|${mermaidLabel(JSON.stringify(sub.filter))}|`;
    lines.push(`  ${nodeId('e', sub.event)} -->${label} ${nodeId('r', sub.rpc)}`);
  }
  for (const service of spec.services) {
    for (const rpc of service.rpcs) {
      for (const eventName of rpc.publishes)
        lines.push(`  ${nodeId('r', rpc.id)} -.-> ${nodeId('e', eventName)}`);
    }
  }
  return lines.join('\n');
}

function dotString(text: string): string {
  return JSON.stringify(text);
}

function renderDot(spec: RouterSpec): string {
  const lines = ['digraph router {', '  rankdir=LR;', '  node [fontname="Helvetica"];'];
  const publishers = new Set(spec.events.flatMap(externalOf));
  for (const publisher of publishers)
    lines.push(`  ${dotString(`pub:${publisher}`)} [label=${dotString(publisher)}, shape=box];`);
  for (const event of spec.events)
    lines.push(`  ${dotString(`event:${event.name}`)} [label=${dotString(event.name)}, shape=hexagon];`);
  for (const service of spec.services) {
    lines.push(
      `  subgraph ${dotString(`cluster_${service.name}`)} {`,
      `    label=${dotString(service.name)};`,
    );
    for (const rpc of service.rpcs)
      lines.push(`    ${dotString(`rpc:${rpc.id}`)} [label=${dotString(rpc.method)}, shape=ellipse];`);
    lines.push('  }');
  }
  for (const event of spec.events)
    for (const publisher of externalOf(event))
      lines.push(`  ${dotString(`pub:${publisher}`)} -> ${dotString(`event:${event.name}`)};`);
  for (const sub of spec.subscriptions) {
    const label = sub.filter === undefined ? '' : ` [label=${dotString(JSON.stringify(sub.filter))}]`;
    lines.push(`  ${dotString(`event:${sub.event}`)} -> ${dotString(`rpc:${sub.rpc}`)}${label};`);
  }
  for (const service of spec.services) {
    for (const rpc of service.rpcs) {
      for (const eventName of rpc.publishes)
        lines.push(`  ${dotString(`rpc:${rpc.id}`)} -> ${dotString(`event:${eventName}`)} [style=dashed];`);
    }
  }
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
  console.log(renderGraph(result.spec, format));
  return 0;
}
