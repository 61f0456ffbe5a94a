/**
 * Lambda TOKEN authorizer of the publish API when the YAML chooses `auth: jwt`: verifies the bearer
 * token (issuer's key set, `iss`, `aud`, `exp`, `nbf`) and allows the whole API for its subject. API
 * Gateway caches the decision per token; the subject reaches the publish function as
 * `requestContext.authorizer.principalId`, with the claims the declared publishers are recognized by
 * (ER_JWT_CLAIMS) in the authorizer context; the publish function maps them to a publisher.
 *
 * Configuration: ER_JWT_ISSUER, ER_JWT_AUDIENCE (comma-separated), ER_JWT_CLAIMS (comma-separated).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { JWT_ENV } from '../../common/contracts.ts';
import { InvalidTokenError, type JwtSettings, jwksResolver, type KeyResolver, verifyJwt } from './jwt.ts';

/** Context keys a token never sets: the local dev server's caller key, and what API Gateway sets itself. */
const RESERVED_CONTEXT_KEYS = new Set(['localPublisher', 'principalId', 'claims']);

/** The verified claims named in `names`, as authorizer context values (lists joined with spaces). */
export function contextClaims(
  claims: Record<string, unknown>,
  names: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    if (RESERVED_CONTEXT_KEYS.has(name)) continue;
    const value = claims[name];
    if (typeof value === 'string' || typeof value === 'number') out[name] = String(value);
    else if (Array.isArray(value)) out[name] = value.map(String).join(' ');
  }
  return out;
}

/** `arn:aws:execute-api:region:account:apiId/stage/METHOD/path` -> the same ARN for every method and path of the stage. */
export function apiWideArn(methodArn: string): string {
  const [base = '', stage = ''] = methodArn.split('/');
  return `${base}/${stage}/*/*`;
}

/** An authorizer handler for `settings`, resolving keys with `resolveKey`. */
export function createAuthorizer(
  settings: JwtSettings,
  resolveKey: KeyResolver,
  logger: Pick<Logger, 'warn'>,
  claimNames: readonly string[] = [],
) {
  return async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const match = /^Bearer\s+(\S+)$/i.exec(event.authorizationToken ?? '');
    try {
      if (!match?.[1]) throw new InvalidTokenError('The Authorization header is not "Bearer <token>".');
      const claims = await verifyJwt(match[1], settings, resolveKey);
      const subject = typeof claims.sub === 'string' && claims.sub ? claims.sub : 'unknown';
      return {
        principalId: subject,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: apiWideArn(event.methodArn) },
          ],
        },
        context: { ...contextClaims(claims, claimNames), sub: subject },
      };
    } catch (error) {
      logger.warn('Token refused', { reason: (error as Error).message });
      // API Gateway answers 401 for exactly this message.
      throw new Error('Unauthorized');
    }
  };
}

let cached: ReturnType<typeof createAuthorizer> | undefined;

/** The Lambda entry point. */
export const handler = (event: APIGatewayTokenAuthorizerEvent) => {
  if (!cached) {
    const issuer = process.env[JWT_ENV.issuer] ?? '';
    const audience = (process.env[JWT_ENV.audience] ?? '').split(',').filter(Boolean);
    if (!issuer || audience.length === 0)
      throw new Error(`The JWT authorizer is not configured: set ${JWT_ENV.issuer} and ${JWT_ENV.audience}.`);
    cached = createAuthorizer(
      { issuer, audience },
      jwksResolver(issuer),
      new Logger({ serviceName: 'publish-api-authorizer' }),
      (process.env[JWT_ENV.claims] ?? '').split(',').filter(Boolean),
    );
  }
  return cached(event);
};
