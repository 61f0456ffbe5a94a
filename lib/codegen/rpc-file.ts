/**
 * Renders `generated/rpc.ts`: the framework's `defineRpc` bound to the router's events (`bindRpc` of
 * functions/commons/rpc.ts), so a handler's payload type follows its event name and an unknown event
 * name does not compile. Handler modules import `defineRpc` from here.
 */
import { generatedHeader } from './events-file.ts';
import { LINE_WIDTH } from './literals.ts';

/** `head { a, b } from 'x';` on one line when it fits, else one name per line (as the formatter lays it out). */
function named(head: string, names: readonly string[], from: string): string {
  const flat = `${head} { ${names.join(', ')} } from ${from};`;
  if (flat.length <= LINE_WIDTH) return flat;
  return `${head} {\n${names.map((name) => `  ${name},`).join('\n')}\n} from ${from};`;
}

/**
 * The text of `generated/rpc.ts`. `rpcModule` is the import specifier of functions/commons/rpc.ts as
 * seen from the output directory.
 */
export function renderRpcFile(rpcModule: string): string {
  const from = `'${rpcModule}'`;
  return `${generatedHeader('The RPC handler helper of this router, bound to its events.')}
${named(
  'import',
  [
    'type RpcContext as BoundContext',
    'type RpcFunction as BoundFunction',
    'type RpcHandler as BoundHandler',
    'type RpcRoutes as BoundRoutes',
    'bindRpc',
  ],
  from,
)}
import { EVENT_SCHEMA_VERSIONS, type EventName, type EventPayloads } from './events.ts';

${named('export type', ['WorkerHandler', 'WorkerOptions'], from)}
${named('export', ['NonRetryableError'], from)}

/** The context of a handler run for event \`E\` of this router. */
export type RpcContext<E extends EventName = EventName> = BoundContext<EventPayloads, E>;
/** The function that handles event \`E\`. Its return value (JSON) is recorded with the delivery. */
export type RpcFunction<E extends EventName> = BoundFunction<EventPayloads, E>;
/** One function per event an RPC receives. Unknown event names do not compile. */
export type RpcRoutes = BoundRoutes<EventPayloads>;
/** A worker handler defined with {@link defineRpc}; \`routes\` lets tests call the functions directly. */
export type RpcHandler = BoundHandler<EventPayloads>;

/**
 * Defines an RPC handler of this router, the complete worker Lambda handler of the RPC's SQS queue:
 * \`export const handler = defineRpc('event.name', async (payload, ctx) => { ... });\`, or one function
 * per event: \`defineRpc({ 'event.a': async (payload, ctx) => { ... }, 'event.b': ... })\`.
 */
export const defineRpc = bindRpc<EventPayloads>({ schemaVersions: EVENT_SCHEMA_VERSIONS });
`;
}
