/**
 * The publish function's configuration: environment variables set by the PublishApi construct, and the
 * event schemas (`BUNDLE_DEFINES.eventSchemas`, each with its `x-schema-version`) and subscriptions
 * (`ENV.subscriptions`) compiled into the bundle, or the environment variables of the same names in tests.
 */
import { BUNDLE_DEFINES, ENV, FILTERED_SUBSCRIPTIONS_DEFINE } from '../../common/contracts.ts';
import type { PayloadSchema } from '../../common/payload-schema.ts';
import { catalogOf } from '../../common/publish.ts';
import { loadPublisherDirectory, type PublisherDirectory } from '../../common/publishers.ts';

declare const ER_EVENT_SCHEMAS: string | undefined;
/** Subscriptions compiled into the bundle under the name of ENV.subscriptions (they can pass 4 KB). */
declare const ER_SUBSCRIPTIONS: string | undefined;
declare const ER_FILTERED_SUBSCRIPTIONS: string | undefined;

/** Schema version used when the schemas JSON gives none (`x-schema-version` on the schema). */
export const DEFAULT_SCHEMA_VERSION = 1;

export interface PublishConfig {
  /** Bus events are put on (needed for POST). */
  readonly eventBus?: string;
  /** Deliveries table (needed for GET). */
  readonly deliveriesTable?: string;
  /** The publishers the API serves and who may publish each event. */
  readonly publishers: PublisherDirectory;
  /** Seconds a publish receipt is kept (as long as delivery records). @default 30 days */
  readonly recordRetentionSeconds: number;
  /** Event name -> payload schema. */
  readonly schemas: Readonly<Record<string, PayloadSchema>>;
  /** Event name -> schema version. */
  readonly schemaVersions: Readonly<Record<string, number>>;
  /** Event name -> RPC ids subscribed to it. */
  readonly subscriptions: Readonly<Record<string, readonly string[]>>;
  /** Event name -> RPC ids whose subscription has a content filter. */
  readonly filtered: Readonly<Record<string, readonly string[]>>;
}

type Env = Readonly<Record<string, string | undefined>>;

function parseObject(name: string, text: string, shape: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${name} is not valid JSON; it must be ${shape}.`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${name} must be a JSON object ${shape}.`);
  return parsed as Record<string, unknown>;
}

/** Reads the configuration from `env` (default `process.env`). */
export function loadPublishConfig(env: Env = process.env): PublishConfig {
  const schemasText =
    typeof ER_EVENT_SCHEMAS !== 'undefined' ? ER_EVENT_SCHEMAS : env[BUNDLE_DEFINES.eventSchemas];
  const rawSchemas = schemasText
    ? parseObject(BUNDLE_DEFINES.eventSchemas, schemasText, '{"<event name>": <JSON Schema>, ...}')
    : {};
  let catalog: { schemas: Record<string, PayloadSchema>; schemaVersions: Record<string, number> };
  try {
    catalog = catalogOf(rawSchemas);
  } catch (error) {
    throw new Error(`${BUNDLE_DEFINES.eventSchemas}: ${(error as Error).message}`);
  }
  const { schemas, schemaVersions } = catalog;
  const subscriptions = readRpcMap(
    ENV.subscriptions,
    typeof ER_SUBSCRIPTIONS !== 'undefined' ? ER_SUBSCRIPTIONS : env[ENV.subscriptions],
  );
  const filtered = readRpcMap(
    FILTERED_SUBSCRIPTIONS_DEFINE,
    typeof ER_FILTERED_SUBSCRIPTIONS !== 'undefined'
      ? ER_FILTERED_SUBSCRIPTIONS
      : env[FILTERED_SUBSCRIPTIONS_DEFINE],
  );
  const retention = Number(env[ENV.recordRetentionSeconds]);
  return {
    eventBus: env[ENV.eventBus] || undefined,
    deliveriesTable: env[ENV.deliveriesTable] || undefined,
    publishers: loadPublisherDirectory(env),
    recordRetentionSeconds: Number.isFinite(retention) && retention > 0 ? retention : 30 * 86400,
    schemas,
    schemaVersions,
    subscriptions,
    filtered,
  };
}

/** Parses JSON `{ [eventName]: rpcId[] }`; empty when `text` is undefined. */
function readRpcMap(name: string, text: string | undefined): Record<string, string[]> {
  const raw = text ? parseObject(name, text, '{"<event name>": ["Service/Method", ...], ...}') : {};
  const map: Record<string, string[]> = {};
  for (const [event, rpcs] of Object.entries(raw)) map[event] = Array.isArray(rpcs) ? rpcs.map(String) : [];
  return map;
}
