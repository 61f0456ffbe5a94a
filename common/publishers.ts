/**
 * Who is calling the publish API, as a declared publisher, and what that publisher may publish.
 *
 * The caller is identified from what API Gateway verified, never from the request body:
 * - auth `iam`: the signing principal (`requestContext.identity.userArn`; an assumed-role session is
 *   matched as its role ARN) against each publisher's `iam` ARN pattern (`*` matches any text);
 * - auth `jwt`: the claims the JWT authorizer verified and passed on (`requestContext.authorizer`)
 *   against each publisher's `jwt: { claim, value }` (`scope`/`scp`: one of the space-separated values);
 * - auth `apiKey`: the id of the API key API Gateway checked (`identity.apiKeyId`), mapped to the
 *   publisher whose named key it is.
 * - locally (the dev server only): `requestContext.authorizer.localPublisher`, which the local gateway
 *   sets from the `X-Event-Router-Publisher` header (empty when the request names none). On AWS no
 *   authorizer of this project sets that key, so it cannot be forged there.
 */
import { SCHEMA_VERSION_KEY } from './contracts.ts';

export { SCHEMA_VERSION_KEY };

/** How a publisher proves who it is (the loader's PublisherIdentity). */
export type PublisherIdentity =
  | { readonly kind: 'iam'; readonly principal: string }
  | { readonly kind: 'jwt'; readonly claim: string; readonly value: string }
  | { readonly kind: 'apiKey'; readonly name: string };

/** A publisher the API serves. */
export interface ServedPublisher {
  readonly name: string;
  /** Its EventBridge source. */
  readonly source: string;
  /** Events it may publish. */
  readonly events: readonly string[];
  readonly identity?: PublisherIdentity;
}

/** What the publish function knows about publishers (bundle constant PUBLISHERS_DEFINE). */
export interface PublisherDirectory {
  /** The external publishers the API serves. */
  readonly publishers: readonly ServedPublisher[];
  /** Event name -> every declared publisher (external names and RPC ids), for answers that say who may. */
  readonly eventPublishers: Readonly<Record<string, readonly string[]>>;
  /** API key id -> publisher name (auth apiKey; ids are only known once deployed). */
  readonly apiKeys?: Readonly<Record<string, string>>;
}

/** Bundle constant (and test environment variable) holding the PublisherDirectory as JSON. */
export const PUBLISHERS_DEFINE = 'ER_PUBLISHERS';
/** Environment variable holding JSON `[[apiKeyId, publisherName], ...]` (auth apiKey). */
export const API_KEY_PUBLISHERS_ENV = 'ER_API_KEY_PUBLISHERS';
/** Request header the local dev server turns into `authorizer.localPublisher` (ignored on AWS). */
export const LOCAL_PUBLISHER_HEADER = 'x-event-router-publisher';
/** The authorizer-context key the local gateway sets. */
export const LOCAL_PUBLISHER_KEY = 'localPublisher';

/** Who is calling. `publisher` is undefined when the caller maps to no declared publisher. */
export interface Caller {
  /** A short description for answers and logs: an ARN, `jwt:<sub>`, `apiKey:<id>`, `local`. */
  readonly description: string;
  readonly publisher?: ServedPublisher;
  /**
   * True for a local request that names no publisher: it acts as each event's declared external
   * publisher, and may read the status of any event (the developer owns everything locally).
   */
  readonly localDefault: boolean;
}

interface RequestContextLike {
  readonly identity?: { readonly userArn?: string | null; readonly apiKeyId?: string | null } | null;
  readonly authorizer?: Record<string, unknown> | null;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** `arn:aws:sts::123:assumed-role/Role/session` -> `arn:aws:iam::123:role/Role`; other ARNs unchanged. */
export function roleArnOf(arn: string): string {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
}

/** True when `arn` matches `pattern`, where `*` matches any text. */
export function arnMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return regex.test(arn) || regex.test(roleArnOf(arn));
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function claimMatches(claims: Record<string, unknown>, claim: string, value: string): boolean {
  const actual = claims[claim];
  if (claim === 'scope' || claim === 'scp') {
    const scopes = Array.isArray(actual) ? actual.map(String) : String(actual ?? '').split(/\s+/);
    return scopes.includes(value);
  }
  return typeof actual === 'string' || typeof actual === 'number' ? String(actual) === value : false;
}

/** Maps the request context to a caller and, when it is one, its declared publisher. */
export function identifyCaller(
  context: RequestContextLike | undefined,
  directory: PublisherDirectory,
): Caller {
  const authorizer = (context?.authorizer ?? {}) as Record<string, unknown>;
  const byName = (name: string) => directory.publishers.find((p) => p.name === name);
  if (typeof authorizer[LOCAL_PUBLISHER_KEY] === 'string') {
    const named = authorizer[LOCAL_PUBLISHER_KEY] as string;
    if (named === '') return { description: 'local', localDefault: true };
    const publisher = byName(named);
    return { description: `local:${named}`, ...(publisher ? { publisher } : {}), localDefault: false };
  }
  const apiKeyId = text(context?.identity?.apiKeyId);
  if (apiKeyId) {
    const name = directory.apiKeys?.[apiKeyId];
    const publisher = name ? byName(name) : undefined;
    return { description: `apiKey:${apiKeyId}`, ...(publisher ? { publisher } : {}), localDefault: false };
  }
  const claims = (authorizer.claims ?? authorizer) as Record<string, unknown>;
  const subject = text(claims.sub) ?? text(authorizer.principalId);
  if (subject) {
    const publisher = directory.publishers.find(
      (p) => p.identity?.kind === 'jwt' && claimMatches(claims, p.identity.claim, p.identity.value),
    );
    return { description: `jwt:${subject}`, ...(publisher ? { publisher } : {}), localDefault: false };
  }
  const arn = text(context?.identity?.userArn);
  if (arn) {
    const publisher = directory.publishers.find(
      (p) => p.identity?.kind === 'iam' && arnMatches(p.identity.principal, arn),
    );
    return { description: arn, ...(publisher ? { publisher } : {}), localDefault: false };
  }
  return { description: 'anonymous', localDefault: false };
}

/** Why an entry is refused (403), or the publisher it is published as. */
export type Authorization =
  | { readonly ok: true; readonly publisher: ServedPublisher }
  | { readonly ok: false; readonly message: string };

/** May `caller` publish `event`? A local default caller acts as the event's first external publisher. */
export function authorize(caller: Caller, event: string, directory: PublisherDirectory): Authorization {
  const declared = directory.eventPublishers[event] ?? [];
  if (caller.localDefault) {
    const publisher = directory.publishers.find((p) => p.events.includes(event));
    if (publisher) return { ok: true, publisher };
    return {
      ok: false,
      message: `"${event}" may only be published by ${listOr(declared)}, not through the publish API.${declared.some((n) => n.includes('/')) ? ' It is a follow-up: the RPC publishes it while handling an event.' : ''}`,
    };
  }
  if (!caller.publisher)
    return {
      ok: false,
      message: `The caller (${caller.description}) is not a declared publisher, so it may not publish "${event}". Declare it under "publishers:" in event-router.yaml.`,
    };
  if (caller.publisher.events.includes(event)) return { ok: true, publisher: caller.publisher };
  return {
    ok: false,
    message: `Publisher ${caller.publisher.name} may not publish "${event}"; its publisher is ${listOr(declared)}.`,
  };
}

function listOr(names: readonly string[]): string {
  if (names.length === 0) return 'nobody';
  if (names.length === 1) return names[0] as string;
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

declare const ER_PUBLISHERS: string | undefined;

/** Reads the directory from the bundle constant, or `env` (tests), plus the deployed API key ids. */
export function loadPublisherDirectory(
  env: Readonly<Record<string, string | undefined>> = process.env,
): PublisherDirectory {
  const textValue = typeof ER_PUBLISHERS !== 'undefined' ? ER_PUBLISHERS : env[PUBLISHERS_DEFINE];
  const parsed = (textValue ? JSON.parse(textValue) : {}) as Partial<PublisherDirectory>;
  const keys = env[API_KEY_PUBLISHERS_ENV];
  const apiKeys = keys ? Object.fromEntries(JSON.parse(keys) as [string, string][]) : undefined;
  return {
    publishers: parsed.publishers ?? [],
    eventPublishers: parsed.eventPublishers ?? {},
    ...(apiKeys ? { apiKeys } : {}),
  };
}
