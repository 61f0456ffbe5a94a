/**
 * JWT verification for the publish API's authorizer: each part canonical base64url, no `crit`
 * extension (none is understood, RFC 7515 4.1.11), the claims (`iss`, `aud`, numeric `exp`, `nbf`
 * and `iat`) and then the signature (RS256/384/512, PS256/384/512, ES256/384/512) against the
 * issuer's JSON Web Key Set. Claims are checked before any key is looked up, so a token refused
 * anyway never makes the authorizer call the identity provider. The key set is found through
 * OpenID discovery (`<issuer>/.well-known/openid-configuration`) and cached; unknown `kid`s are
 * cached as misses and refresh the set at most once a minute.
 */
import { constants, createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';

export interface JwtSettings {
  /** Expected `iss`, exactly. */
  readonly issuer: string;
  /** Accepted `aud` values; the token must carry at least one. */
  readonly audience: readonly string[];
  /** Seconds of clock skew tolerated for `exp` / `nbf`. @default 60 */
  readonly leewaySeconds?: number;
}

export type Claims = Record<string, unknown> & { readonly sub?: string };

/** Why a token was refused (the message goes to logs, never to the caller). */
export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

const ALGORITHMS: Record<string, { hash: string; kty: string; pss?: boolean; ec?: boolean }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
  PS384: { hash: 'sha384', kty: 'RSA', pss: true },
  PS512: { hash: 'sha512', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC', ec: true },
  ES384: { hash: 'sha384', kty: 'EC', ec: true },
  ES512: { hash: 'sha512', kty: 'EC', ec: true },
};

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** The bytes of a base64url part, which must be canonical (no padding, no stray bits or characters). */
function decodePart(part: string, what: string): Buffer {
  const bytes = BASE64URL.test(part) ? Buffer.from(part, 'base64url') : undefined;
  if (!bytes || bytes.toString('base64url') !== part)
    throw new InvalidTokenError(`The token's ${what} is not canonical base64url.`);
  return bytes;
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  const bytes = decodePart(part, what);
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InvalidTokenError(`The token's ${what} is not base64url-encoded JSON.`);
}

/** Finds signing keys by `kid`. */
export type KeyResolver = (kid: string | undefined, alg: string) => Promise<KeyObject>;

/** Verifies `token`; returns its claims or throws InvalidTokenError. */
export async function verifyJwt(
  token: string,
  settings: JwtSettings,
  resolveKey: KeyResolver,
  now: number = Date.now(),
): Promise<Claims> {
  const parts = token.split('.');
  if (parts.length !== 3)
    throw new InvalidTokenError('The token is not a JWS compact serialization (three parts).');
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  const header = decodeJson(headerPart, 'header');
  const claims = decodeJson(payloadPart, 'payload') as Claims;
  const signature = decodePart(signaturePart, 'signature');
  const alg = typeof header.alg === 'string' ? header.alg : '';
  const algorithm = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
  if (!algorithm) throw new InvalidTokenError(`Algorithm "${alg}" is not accepted.`);
  if (header.crit !== undefined)
    throw new InvalidTokenError(
      `The token requires extensions this verifier does not understand (crit ${JSON.stringify(header.crit)}).`,
    );
  checkClaims(claims, settings, now);
  const key = await resolveKey(typeof header.kid === 'string' ? header.kid : undefined, alg);
  const ok = verify(
    algorithm.hash,
    Buffer.from(`${headerPart}.${payloadPart}`),
    {
      key,
      ...(algorithm.pss
        ? {
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: 32 + (alg.endsWith('384') ? 16 : alg.endsWith('512') ? 32 : 0),
          }
        : {}),
      ...(algorithm.ec ? { dsaEncoding: 'ieee-p1363' as const } : {}),
    },
    signature,
  );
  if (!ok) throw new InvalidTokenError('The signature does not verify.');
  return claims;
}

/** `iss`, `aud`, `exp`, `nbf` and `iat`; time claims must be numbers when present (`exp` always). */
function checkClaims(claims: Claims, settings: JwtSettings, now: number): void {
  if (claims.iss !== settings.issuer)
    throw new InvalidTokenError(`Issuer ${String(claims.iss)} is not ${settings.issuer}.`);
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((aud) => typeof aud === 'string' && settings.audience.includes(aud)))
    throw new InvalidTokenError(`Audience ${JSON.stringify(claims.aud)} is not accepted.`);
  const leeway = settings.leewaySeconds ?? 60;
  const seconds = now / 1000;
  if (typeof claims.exp !== 'number' || claims.exp + leeway <= seconds)
    throw new InvalidTokenError('The token has expired.');
  for (const name of ['nbf', 'iat'] as const) {
    const value = claims[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value)))
      throw new InvalidTokenError(`The token's ${name} is not a number of seconds.`);
  }
  if (typeof claims.nbf === 'number' && claims.nbf - leeway > seconds)
    throw new InvalidTokenError('The token is not valid yet.');
  if (typeof claims.iat === 'number' && claims.iat - leeway > seconds)
    throw new InvalidTokenError('The token was issued in the future.');
}

interface Jwk extends JsonWebKey {
  kid?: string;
  use?: string;
  alg?: string;
}

/**
 * A KeyResolver reading the issuer's JWKS (through OpenID discovery), cached for `ttlMs`. An unknown
 * `kid` refreshes the set (keys rotate), but at most once per `refreshIntervalMs` whatever the tokens
 * say, and a `kid` still unknown after a refresh is remembered as a miss for `missTtlMs`: junk tokens
 * cannot make the authorizer hammer the identity provider.
 */
export function jwksResolver(
  issuer: string,
  options: {
    ttlMs?: number;
    refreshIntervalMs?: number;
    missTtlMs?: number;
    fetch?: typeof fetch;
    clock?: () => number;
  } = {},
): KeyResolver {
  const doFetch = options.fetch ?? fetch;
  const clock = options.clock ?? Date.now;
  const ttl = options.ttlMs ?? 10 * 60 * 1000;
  const refreshInterval = options.refreshIntervalMs ?? 60 * 1000;
  const missTtl = options.missTtlMs ?? 5 * 60 * 1000;
  const MAX_MISSES = 1000;
  let cache: { keys: Jwk[]; at: number } | undefined;
  let lastMissRefresh = Number.NEGATIVE_INFINITY;
  let loading: Promise<Jwk[]> | undefined;
  const misses = new Map<string, number>();

  /** One load at a time: concurrent callers share it. */
  async function refresh(): Promise<void> {
    loading ??= load().finally(() => {
      loading = undefined;
    });
    cache = { keys: await loading, at: clock() };
  }

  async function load(): Promise<Jwk[]> {
    const discovery = await doFetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    if (!discovery.ok) throw new Error(`OpenID discovery of ${issuer} answered ${discovery.status}.`);
    const { jwks_uri: jwksUri } = (await discovery.json()) as { jwks_uri?: string };
    if (!jwksUri) throw new Error(`OpenID discovery of ${issuer} has no jwks_uri.`);
    const response = await doFetch(jwksUri);
    if (!response.ok) throw new Error(`The key set ${jwksUri} answered ${response.status}.`);
    const { keys } = (await response.json()) as { keys?: Jwk[] };
    return keys ?? [];
  }

  return async (kid, alg) => {
    const kty = ALGORITHMS[alg]?.kty;
    const find = (keys: Jwk[]) =>
      keys.find(
        (key) => key.kty === kty && (kid === undefined || key.kid === kid) && (key.use ?? 'sig') === 'sig',
      );
    if (!cache || clock() - cache.at > ttl) await refresh();
    let jwk = find(cache?.keys ?? []);
    const missKey = `${kid ?? ''}\u0000${alg}`;
    if (!jwk) {
      const missUntil = misses.get(missKey);
      const knownMiss = missUntil !== undefined && missUntil > clock();
      if (!knownMiss && clock() - lastMissRefresh >= refreshInterval) {
        lastMissRefresh = clock();
        await refresh();
        jwk = find(cache?.keys ?? []);
      }
      if (!jwk) {
        if (misses.size >= MAX_MISSES) misses.clear();
        if (!knownMiss) misses.set(missKey, clock() + missTtl);
        throw new InvalidTokenError(`No signing key ${kid ?? '(no kid)'} in the issuer's key set.`);
      }
    }
    return createPublicKey({ key: jwk, format: 'jwk' });
  };
}
