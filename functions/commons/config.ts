/**
 * The worker's run-time configuration: environment variables set by the constructs (names in
 * `ENV` of contracts.ts) and the event schemas injected into the bundle at build time
 * (`BUNDLE_DEFINES`), with the environment variable of the same name as a fallback for tests.
 */
import { BUNDLE_DEFINES, ENV } from '../../common/contracts.ts';
import type { PayloadSchema } from '../../common/payload-schema.ts';

declare const ER_EVENT_SCHEMAS: string | undefined;

/**
 * Runs of a delivery per budget (and receives before SQS moves a message to the DLQ), when
 * `ER_MAX_RECEIVE_COUNT` is not set (the spec's default).
 */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
/** Default queue retention (4 d) + DLQ retention (14 d) + one day: a redrive of a DLQ message finds the record. */
export const DEFAULT_RECORD_RETENTION_SECONDS = (4 + 14 + 1) * 24 * 3600;
/** Per-call timeout of a remote RPC when `ER_REMOTE_TIMEOUT_MS` is not set. */
export const DEFAULT_REMOTE_TIMEOUT_MS = 10_000;

export interface WorkerConfig {
  /** `Service/Method` this worker runs. */
  readonly rpc: string;
  /** Application name (part of the `source` of follow-up events). */
  readonly app?: string;
  readonly deliveriesTable: string;
  /** URL of this RPC's DLQ. Also gives the queue's URL (same host and path, the queue's own name). */
  readonly dlqUrl: string;
  /** Bus for follow-up events; undefined when the RPC publishes none. */
  readonly eventBus?: string;
  readonly maxReceiveCount: number;
  readonly recordRetentionSeconds: number;
  /** Schemas of the events this worker validates; undefined = validation off (only in tests). */
  readonly eventSchemas?: Readonly<Record<string, PayloadSchema>>;
  /** Remote RPCs only. */
  readonly remoteUrl?: string;
  readonly remoteTimeoutMs: number;
  /** Local runtime only: seconds between retries of a failed delivery, replacing the RPC's backoff. */
  readonly retryDelaySeconds?: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The schemas JSON compiled into the bundle, or the environment variable of the same name. */
function eventSchemasSource(env: Env): string | undefined {
  return typeof ER_EVENT_SCHEMAS !== 'undefined' ? ER_EVENT_SCHEMAS : env[BUNDLE_DEFINES.eventSchemas];
}

function positiveInteger(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(
      `Environment variable ${name}="${raw}" is not a positive integer; set it to a whole number.`,
    );
  return value;
}

function nonNegativeInteger(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(
      `Environment variable ${name}="${raw}" is not a whole number of seconds; set it to 0 or more.`,
    );
  return value;
}

function parseSchemas(source: string): Record<string, PayloadSchema> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw new Error(
      `${BUNDLE_DEFINES.eventSchemas} is not valid JSON; it must be {"<event name>": <JSON Schema>, ...}.`,
      { cause: error },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(
      `${BUNDLE_DEFINES.eventSchemas} must be a JSON object {"<event name>": <JSON Schema>, ...}.`,
    );
  return parsed as Record<string, PayloadSchema>;
}

/**
 * Reads the configuration from `env` (default `process.env`), then applies `overrides` (tests).
 * Throws one error naming every missing variable.
 */
export function loadWorkerConfig(
  overrides: Partial<WorkerConfig> = {},
  env: Env = process.env,
): WorkerConfig {
  const schemas = eventSchemasSource(env);
  const fromEnv: Partial<WorkerConfig> = {
    rpc: env[ENV.rpc] || undefined,
    app: env[ENV.app] || undefined,
    deliveriesTable: env[ENV.deliveriesTable] || undefined,
    dlqUrl: env[ENV.dlqUrl] || undefined,
    eventBus: env[ENV.eventBus] || undefined,
    remoteUrl: env[ENV.remoteUrl] || undefined,
    maxReceiveCount: positiveInteger(env, ENV.maxReceiveCount, DEFAULT_MAX_RECEIVE_COUNT),
    recordRetentionSeconds: positiveInteger(
      env,
      ENV.recordRetentionSeconds,
      DEFAULT_RECORD_RETENTION_SECONDS,
    ),
    remoteTimeoutMs: positiveInteger(env, ENV.remoteTimeoutMs, DEFAULT_REMOTE_TIMEOUT_MS),
    eventSchemas: schemas ? parseSchemas(schemas) : undefined,
    retryDelaySeconds: nonNegativeInteger(env, ENV.retryDelaySeconds),
  };
  const merged = { ...fromEnv, ...withoutUndefined(overrides) };
  const missing = (
    [
      ['rpc', ENV.rpc],
      ['deliveriesTable', ENV.deliveriesTable],
      ['dlqUrl', ENV.dlqUrl],
    ] as const
  )
    .filter(([key]) => !merged[key])
    .map(([, name]) => name);
  if (missing.length > 0 || !merged.rpc || !merged.deliveriesTable || !merged.dlqUrl)
    throw new Error(
      `The worker is missing its configuration: ${missing.join(', ')} not set. The CDK construct sets these on the ` +
        'function; in a test, set them in process.env or pass `config` to handler.withDependencies().',
    );
  return {
    ...merged,
    rpc: merged.rpc,
    deliveriesTable: merged.deliveriesTable,
    dlqUrl: merged.dlqUrl,
    maxReceiveCount: merged.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
    recordRetentionSeconds: merged.recordRetentionSeconds ?? DEFAULT_RECORD_RETENTION_SECONDS,
    remoteTimeoutMs: merged.remoteTimeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS,
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
