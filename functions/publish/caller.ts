/**
 * Who is publishing, from the API Gateway request context: it becomes `metadata.publisher`.
 * A JWT subject (Lambda authorizer principal or Cognito claims), else the API key id, else the IAM
 * principal that signed the request, else `publish-api`. The API key value itself is never used.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** `metadata.publisher` when nothing identifies the caller. */
export const DEFAULT_PUBLISHER = 'publish-api';

type RequestContext = Partial<Pick<APIGatewayProxyEvent['requestContext'], 'identity' | 'authorizer'>>;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The caller's identity as a short string such as `jwt:<sub>`, `apiKey:<id>` or an IAM ARN. */
export function callerOf(context: RequestContext | undefined): string {
  const authorizer = (context?.authorizer ?? {}) as Record<string, unknown>;
  const claims = (authorizer.claims ?? {}) as Record<string, unknown>;
  const subject = text(authorizer.sub) ?? text(claims.sub) ?? text(authorizer.principalId);
  if (subject) return `jwt:${subject}`;
  const identity = context?.identity;
  const apiKeyId = text(identity?.apiKeyId);
  if (apiKeyId) return `apiKey:${apiKeyId}`;
  const principal = text(identity?.userArn) ?? text(identity?.caller);
  if (principal) return principal;
  return DEFAULT_PUBLISHER;
}
