/**
 * REST API routes from the templates, served on the runtime's port at
 * `/restapis/<apiId>/<stage>/_user_request_/<path>` and, for the first API, at `/api/<path>`.
 * Each request invokes its function with the Lambda proxy event (payload format 1.0) and answers
 * with the function's `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}`.
 *
 * Who is calling (locally nothing signs or verifies requests), in the authorizer context the publish
 * function maps to a declared publisher (common/publishers.ts):
 * - `X-Event-Router-Publisher: <Name>` acts as that declared publisher (honoured only here: on AWS the
 *   caller is the IAM principal, API key or JWT that API Gateway verified);
 * - else, on a route guarded by the JWT authorizer, `Authorization: Bearer <jwt>`: its claims, read
 *   without verifying the signature (only here), as the authorizer would pass them on;
 * - else the request names no publisher: each event is published as its declared external publisher
 *   (so the quick start is one plain curl), and an event only an RPC may publish is refused (403).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOCAL_PUBLISHER_HEADER, LOCAL_PUBLISHER_KEY } from '../../../common/publishers.ts';
import type { ApiDefinition, ApiRoute } from '../assembly/model.ts';
import type { InvokeOutcome } from '../lambda/runner.ts';

export interface ApiRequestLog {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly functionName: string;
  readonly ms: number;
}

export interface ApiGatewayOptions {
  readonly account: string;
  readonly invoke: (functionName: string, event: unknown) => Promise<InvokeOutcome>;
  readonly onRequest: (log: ApiRequestLog) => void;
}

interface CompiledRoute {
  readonly route: ApiRoute;
  readonly regex: RegExp;
  readonly params: string[];
  readonly literalSegments: number;
}

function compile(route: ApiRoute): CompiledRoute {
  const params: string[] = [];
  let literal = 0;
  const source = route.resourcePath
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      const greedy = /^\{(.+)\+\}$/.exec(segment);
      if (greedy) {
        params.push(greedy[1] as string);
        return '(.+)';
      }
      const param = /^\{(.+)\}$/.exec(segment);
      if (param) {
        params.push(param[1] as string);
        return '([^/]+)';
      }
      literal++;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { route, regex: new RegExp(`^/${source}/?$`), params, literalSegments: literal };
}

/** The authorizer context of a local request (see the module comment). */
export function localAuthorizer(
  req: IncomingMessage,
  authorizationType: string | undefined,
): Record<string, unknown> {
  const named = req.headers[LOCAL_PUBLISHER_HEADER];
  if (typeof named === 'string' && named.trim() !== '') return { [LOCAL_PUBLISHER_KEY]: named.trim() };
  const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
  if (bearer && authorizationType === 'CUSTOM') {
    const claims = unverifiedClaims(bearer);
    if (claims) {
      const context: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(claims))
        if (typeof value === 'string' || typeof value === 'number') context[name] = String(value);
        else if (Array.isArray(value)) context[name] = value.map(String).join(' ');
      return { ...context, principalId: String(claims.sub ?? 'unknown') };
    }
  }
  return { [LOCAL_PUBLISHER_KEY]: '' };
}

function unverifiedClaims(token: string): Record<string, unknown> | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}

export class ApiGateway {
  private apis: Array<{ def: ApiDefinition; routes: CompiledRoute[] }> = [];

  constructor(private readonly options: ApiGatewayOptions) {}

  configure(apis: readonly ApiDefinition[]): void {
    this.apis = apis.map((def) => ({
      def,
      routes: def.routes
        .map(compile)
        .sort((a, b) => b.literalSegments - a.literalSegments || a.params.length - b.params.length),
    }));
  }

  /** Base URLs of each API, for the start banner. */
  endpoints(baseUrl: string): Array<{ name: string; url: string; alias?: string; routes: string[] }> {
    return this.apis.map(({ def }, i) => ({
      name: def.name,
      url: `${baseUrl}/restapis/${def.id}/${def.stages[0]}/_user_request_`,
      ...(i === 0 ? { alias: `${baseUrl}/api` } : {}),
      routes: def.routes.map((r) => `${r.httpMethod} ${r.resourcePath}`),
    }));
  }

  /** Serves the request when its path belongs to an API; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://local');
    let api: { def: ApiDefinition; routes: CompiledRoute[] } | undefined;
    let stage: string;
    let path: string;
    const full = /^\/restapis\/([^/]+)\/([^/]+)\/_user_request_(\/.*)?$/.exec(url.pathname);
    if (full) {
      api = this.apis.find((a) => a.def.id === full[1]);
      stage = full[2] as string;
      path = full[3] ?? '/';
    } else if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      api = this.apis[0];
      stage = api?.def.stages[0] ?? 'prod';
      path = url.pathname.slice(4) || '/';
    } else return false;
    const method = (req.method ?? 'GET').toUpperCase();
    if (!api) {
      this.json(res, 404, { message: 'No REST API is defined in the templates at this path.' });
      return true;
    }
    let match: { route: CompiledRoute; values: string[] } | undefined;
    let pathMatched = false;
    for (const route of api.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.route.httpMethod === method || route.route.httpMethod === 'ANY') {
        match = { route, values: m.slice(1) };
        break;
      }
    }
    if (!match) {
      this.json(res, pathMatched ? 405 : 403, {
        message: pathMatched ? `Method ${method} is not allowed on ${path}.` : 'Missing Authentication Token',
      });
      return true;
    }
    const values: string[] = [];
    for (const raw of match.values) {
      try {
        values.push(decodeURIComponent(raw));
      } catch {
        this.json(res, 400, { message: `The path ${path} is not valid percent-encoding.` });
        return true;
      }
    }
    const started = Date.now();
    const event = this.event(req, url, method, path, stage, api.def, match.route, values, body);
    const outcome = await this.options.invoke(match.route.route.functionName, event);
    const status = this.respond(res, outcome);
    this.options.onRequest({
      method,
      path,
      status,
      functionName: match.route.route.functionName,
      ms: Date.now() - started,
    });
    return true;
  }

  private event(
    req: IncomingMessage,
    url: URL,
    method: string,
    path: string,
    stage: string,
    api: ApiDefinition,
    route: CompiledRoute,
    values: string[],
    body: Buffer,
  ): Record<string, unknown> {
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] as string;
      const value = req.rawHeaders[i + 1] as string;
      headers[name] = value;
      const list = multiValueHeaders[name] ?? [];
      list.push(value);
      multiValueHeaders[name] = list;
    }
    const query: Record<string, string> = {};
    const multiQuery: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) {
      query[k] = v;
      const list = multiQuery[k] ?? [];
      list.push(v);
      multiQuery[k] = list;
    }
    const pathParameters: Record<string, string> = {};
    route.params.forEach((name, i) => {
      pathParameters[name] = values[i] ?? '';
    });
    const contentType = String(req.headers['content-type'] ?? '');
    const textual =
      body.length === 0 ||
      /json|text|xml|x-www-form-urlencoded|javascript/.test(contentType) ||
      contentType === '';
    const now = Date.now();
    const requestId = randomUUID();
    return {
      resource: route.route.resourcePath,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: Object.keys(query).length > 0 ? query : null,
      multiValueQueryStringParameters: Object.keys(multiQuery).length > 0 ? multiQuery : null,
      pathParameters: route.params.length > 0 ? pathParameters : null,
      stageVariables: null,
      requestContext: {
        accountId: this.options.account,
        apiId: api.id,
        resourceId: route.route.resourceId,
        resourcePath: route.route.resourcePath,
        stage,
        requestId,
        extendedRequestId: requestId,
        httpMethod: method,
        path: `/${stage}${path}`,
        protocol: `HTTP/${req.httpVersion}`,
        requestTime: new Date(now).toUTCString(),
        requestTimeEpoch: now,
        domainName: String(req.headers.host ?? 'localhost'),
        identity: {
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: String(req.headers['user-agent'] ?? ''),
          accountId: route.route.authorizationType === 'AWS_IAM' ? this.options.account : null,
          caller: null,
          user: null,
          userArn:
            route.route.authorizationType === 'AWS_IAM'
              ? `arn:aws:iam::${this.options.account}:user/local`
              : null,
          accessKey: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          cognitoAuthenticationType: null,
          cognitoAuthenticationProvider: null,
          principalOrgId: null,
          apiKey: null,
          apiKeyId: null,
        },
        authorizer: localAuthorizer(req, route.route.authorizationType),
      },
      body: body.length === 0 ? null : textual ? body.toString('utf8') : body.toString('base64'),
      isBase64Encoded: body.length > 0 && !textual,
    };
  }

  private respond(res: ServerResponse, outcome: InvokeOutcome): number {
    const result = outcome.result as
      | {
          statusCode?: unknown;
          headers?: Record<string, unknown>;
          multiValueHeaders?: Record<string, unknown[]>;
          body?: unknown;
          isBase64Encoded?: unknown;
        }
      | null
      | undefined;
    if (!outcome.ok || !result || typeof result !== 'object' || typeof result.statusCode !== 'number') {
      this.json(res, 502, { message: 'Internal server error' });
      return 502;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
    for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
    const body =
      typeof result.body === 'string'
        ? result.isBase64Encoded === true
          ? Buffer.from(result.body, 'base64')
          : Buffer.from(result.body, 'utf8')
        : Buffer.alloc(0);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
    res.writeHead(result.statusCode, {
      ...headers,
      'content-length': body.length,
      'x-amzn-requestid': outcome.requestId,
    });
    res.end(body);
    return result.statusCode;
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}
