/**
 * Checks each handler module against the router file: its `handler` export must be made by `defineRpc`
 * (any other function would be called with the SQS batch and acknowledge every message without running
 * or recording a delivery), and the events its `defineRpc` handles must cover the events the router
 * delivers to the RPC (a missing one would reach the worker and go to the DLQ as UnknownEvent).
 * Problems point at the handler module, `file:line:col`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { DiagnosticBag } from './diagnostics.ts';
import { handlerDefinition, positionOf } from './handler-exports.ts';
import type { RpcSpec, SubscriptionSpec } from './types.ts';

const DEFINE_RPC_IMPORT = 'import { defineRpc } from the generated/rpc.ts that `event-router codegen` writes';

function quoted(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

export function checkHandlerEvents(
  bag: DiagnosticBag,
  rootDir: string,
  rpcs: readonly { readonly spec: RpcSpec }[],
  subscriptions: readonly SubscriptionSpec[],
): void {
  for (const { spec: rpc } of rpcs) {
    if (rpc.target.kind !== 'handler') continue;
    const full = resolve(rootDir, rpc.target.handler);
    if (!existsSync(full)) continue; // reported as handler-not-found
    const source = readFileSync(full, 'utf8');
    const shown = relative(rootDir, full).split(sep).join('/');
    const def = handlerDefinition(source);
    if (def.kind === 'unknown') continue;
    const at = { file: full, ...positionOf(source, def.offset) };
    const subscribed = [...new Set(subscriptions.filter((s) => s.rpc === rpc.id).map((s) => s.event))];
    if (def.kind === 'other') {
      const example = subscribed[0] ?? 'event.name';
      bag.error(
        at,
        'handler-not-defined-with-defineRpc',
        `The \`handler\` of RPC ${rpc.id} (${shown}) is ${def.made}, not made by defineRpc: the worker would pass it the SQS batch, acknowledge every message and never run or record a delivery.`,
        `Wrap the function: \`export const handler = defineRpc('${example}', async (payload, ctx) => { ... });\` (${DEFINE_RPC_IMPORT}).`,
      );
      continue;
    }
    if (def.events === undefined) continue; // not written as literals: the compiler checks them
    const missing = subscribed.filter((e) => !def.events?.includes(e));
    if (missing.length > 0) {
      bag.error(
        at,
        'handler-misses-events',
        `RPC ${rpc.id} receives ${quoted(missing)} (subscribed in the router file), but its handler in ${shown} handles only ${quoted(def.events) || 'no events'}: those deliveries would go to its DLQ as UnknownEvent.`,
        def.events.length === 1 && missing.length === 1
          ? `Handle both, one function each: \`defineRpc({ '${def.events[0]}': async (payload, ctx) => { ... }, '${missing[0]}': async (payload, ctx) => { ... } })\`, or remove the subscription.`
          : `Add ${quoted(missing)} to the events of defineRpc, or remove the subscription${missing.length === 1 ? '' : 's'}.`,
      );
    }
    const unused = def.events.filter((e) => !subscribed.includes(e));
    if (unused.length > 0) {
      bag.warning(
        at,
        'handler-event-not-delivered',
        `The handler of RPC ${rpc.id} in ${shown} handles ${quoted(unused)}, which the router file does not deliver to it.`,
        `Subscribe ${rpc.id} to ${unused.length === 1 ? 'it' : 'them'} under the event's "subscribers:", or remove ${unused.length === 1 ? 'that function' : 'those functions'} from defineRpc.`,
      );
    }
  }
}
