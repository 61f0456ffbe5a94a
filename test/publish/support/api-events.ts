/** API Gateway (REST, proxy integration) events for handler tests. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { CARD_NETWORK_CALLER } from './fixtures.ts';

export interface ApiEventOptions {
  readonly body?: string | null;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
  /** @default - signed by the card network's role (CARD_NETWORK_CALLER) */
  readonly identity?: Partial<APIGatewayProxyEvent['requestContext']['identity']>;
  readonly authorizer?: Record<string, unknown>;
  readonly isBase64Encoded?: boolean;
}

/** A proxy event for `method` on `resource` (`/events`, `/events/{eventId}`). */
export function apiEvent(
  method: string,
  resource: string,
  options: ApiEventOptions = {},
): APIGatewayProxyEvent {
  const path = resource.replace('{eventId}', options.pathParameters?.eventId ?? '');
  return {
    httpMethod: method,
    resource,
    path,
    body: options.body ?? null,
    isBase64Encoded: options.isBase64Encoded ?? false,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    pathParameters: options.pathParameters ?? null,
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      httpMethod: method,
      path,
      protocol: 'HTTP/1.1',
      requestId: 'request-1',
      requestTimeEpoch: 0,
      resourceId: 'resource',
      resourcePath: resource,
      stage: 'dev',
      authorizer: options.authorizer ?? null,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'test',
        userArn: options.identity || options.authorizer ? null : CARD_NETWORK_CALLER,
        ...options.identity,
      },
    },
  };
}

/** `POST /events` with `body` as JSON (strings are sent as they are). */
export function postEvents(body: unknown, options: Omit<ApiEventOptions, 'body'> = {}): APIGatewayProxyEvent {
  return apiEvent('POST', '/events', {
    ...options,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
