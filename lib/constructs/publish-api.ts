/**
 * The HTTP publish API: a REST API (API Gateway v1) with `POST /events` and `GET /events/{eventId}`,
 * both proxied to the publish function (functions/publish/handler.ts).
 *
 * Why a REST API for every auth mode: API keys with usage plans, request validation, per-stage
 * throttling and WAF exist on REST APIs only, and one API type keeps the local runtime, the docs and the
 * tests the same whatever the YAML chooses. JWT, which HTTP APIs check natively, is verified here by a
 * small TOKEN authorizer (functions/publish/jwt-authorizer.ts: the issuer's key set through OpenID
 * discovery, `iss`, `aud`, `exp`, `nbf`) whose decisions API Gateway caches for five minutes.
 */
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_DEFINES, ENV } from '../../functions/commons/contracts.ts';
import {
  FILTERED_SUBSCRIPTIONS,
  publishApiSource,
  SCHEMA_VERSION_KEY,
} from '../../functions/publish/config.ts';
import { JWT_ENV } from '../../functions/publish/jwt-authorizer.ts';
import { filteredSubscriptionsByEvent, subscriptionsByEvent } from '../codegen/spec.ts';
import type { PublishApiAuth, RouterSpec } from '../config/types.ts';
import { names } from '../naming.ts';
import { acknowledge } from './nag.ts';
import { RouterFunction } from './router-function.ts';
import { checkRange, failOnProblems } from './validation.ts';

/** Entry of the publish function. */
export const PUBLISH_FUNCTION_ENTRY = fileURLToPath(
  new URL('../../functions/publish/handler.ts', import.meta.url),
);
/** Entry of the JWT authorizer. */
export const JWT_AUTHORIZER_ENTRY = fileURLToPath(
  new URL('../../functions/publish/jwt-authorizer.ts', import.meta.url),
);

export interface PublishApiProps {
  /** The loaded spec: events (schemas), subscriptions (status), app settings (auth, throttling, names). */
  readonly spec: RouterSpec;
  /** The bus events are published to; the function may PutEvents on it and nothing else. */
  readonly bus: events.IEventBus;
  /** The deliveries table; the function may Query it and nothing else. */
  readonly table: dynamodb.ITable;
  /**
   * Ready-made code of the publish function (a bundled directory with `index.mjs`).
   * @default - functions/publish/handler.ts bundled by esbuild at synth time
   */
  readonly code?: lambda.Code;
  /**
   * Ready-made code of the JWT authorizer (only used with `auth: jwt`).
   * @default - functions/publish/jwt-authorizer.ts bundled by esbuild at synth time
   */
  readonly authorizerCode?: lambda.Code;
}

/**
 * Compile-time constants of the publish function: every event's schema (with its schema version under
 * `x-schema-version`), the subscriptions and those with a content filter, as JSON.
 */
export function publishFunctionConstants(spec: RouterSpec): Record<string, string> {
  const schemas = Object.fromEntries(
    spec.events.map((event) => [event.name, { ...event.schema, [SCHEMA_VERSION_KEY]: event.schemaVersion }]),
  );
  return {
    [BUNDLE_DEFINES.eventSchemas]: JSON.stringify(schemas),
    [ENV.subscriptions]: JSON.stringify(subscriptionsByEvent(spec)),
    [FILTERED_SUBSCRIPTIONS]: JSON.stringify(filteredSubscriptionsByEvent(spec)),
  };
}

/** Every problem with the publish API settings of `spec`. */
export function validatePublishApiProps(props: PublishApiProps): string[] {
  const problems: string[] = [];
  const { publishApi } = props.spec.app;
  checkRange(problems, 'app.publishApi.throttle.rateLimit', publishApi.rateLimit, 1, 10000, ' requests/s');
  checkRange(problems, 'app.publishApi.throttle.burstLimit', publishApi.burstLimit, 0, 5000, ' requests');
  const { auth } = publishApi;
  if (auth.type === 'jwt') {
    if (!/^https:\/\/[^\s/]+/.test(auth.issuer))
      problems.push(
        `app.publishApi.auth.issuer is "${auth.issuer}"; it must be the https:// URL of the token issuer (its iss claim).`,
      );
    if (auth.audience.length === 0)
      problems.push('app.publishApi.auth.audience is empty; list the aud values the API accepts.');
  }
  return problems;
}

const GATEWAY_JSON = 'application/json';

/**
 * - the publish function (RouterFunction): `events:PutEvents` on the bus under the API's own source
 *   (`event-router.<app>.publish-api`), `dynamodb:Query` on the table;
 * - a REST API, regional, one stage named after the app's stage, throttled as the YAML says, with JSON
 *   access logs, a request validator (body must be a JSON object, eventId present) and JSON error bodies
 *   that name the field for API Gateway's own 4xx;
 * - auth from `app.publishApi.auth`: `iam` (SigV4; callers need `execute-api:Invoke`), `apiKey` (an API key
 *   and a usage plan with the same throttling), or `jwt` (TOKEN authorizer, see the module comment).
 */
export class PublishApi extends Construct {
  /** The REST API. */
  readonly api: apigateway.RestApi;
  /** The publish function behind both routes. */
  readonly function: RouterFunction;
  /** The JWT authorizer function (auth `jwt` only). */
  readonly authorizerFunction?: RouterFunction;
  /**
   * The API key (auth `apiKey` only). Its name is `names.publishApiKeyName` (`<app>-<stage>-publish-api-default`); its value: `aws apigateway get-api-keys --name-query <that name> --include-values`.
   */
  readonly apiKey?: apigateway.IApiKey;
  /** Base URL of the stage, e.g. `https://<id>.execute-api.<region>.amazonaws.com/dev/`. */
  readonly url: string;
  /** Access log group of the stage. */
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PublishApiProps) {
    super(scope, id);
    failOnProblems(this, `PublishApi ${id}`, validatePublishApiProps(props));
    const { spec } = props;
    const ctx = { app: spec.app.name, stage: spec.app.stage };
    const { auth, rateLimit, burstLimit } = spec.app.publishApi;

    this.function = new RouterFunction(this, 'Function', {
      entry: PUBLISH_FUNCTION_ENTRY,
      functionName: names.publishFunctionName(ctx),
      description: `Publish API of ${ctx.app}/${ctx.stage}: POST /events, GET /events/{eventId}`,
      timeout: Duration.seconds(25),
      memorySize: 512,
      environment: {
        [ENV.app]: ctx.app,
        [ENV.stage]: ctx.stage,
        [ENV.eventBus]: props.bus.eventBusName,
        [ENV.deliveriesTable]: props.table.tableName,
      },
      constants: publishFunctionConstants(spec),
      policyStatements: [
        // Only under the publish API's own source (as the function stamps it), so the API cannot pass
        // events off as an RPC's follow-ups. Event names are not listed here: the function accepts only
        // the events of the spec, and a list of every event could outgrow the role's inline policy.
        new iam.PolicyStatement({
          sid: 'PublishToBus',
          actions: ['events:PutEvents'],
          resources: [props.bus.eventBusArn],
          conditions: { StringEquals: { 'events:source': publishApiSource(ctx.app) } },
        }),
        new iam.PolicyStatement({
          sid: 'ReadDeliveries',
          actions: ['dynamodb:Query'],
          resources: [props.table.tableArn],
        }),
      ],
      ...(props.code === undefined ? {} : { code: props.code }),
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: names.publishApiName(ctx),
      description: `Publish events to ${names.busName(ctx)} and read their delivery status`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: false,
      deployOptions: {
        stageName: ctx.stage,
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
        metricsEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });
    this.url = this.api.url;
    // The stacks of a router export and output nothing (they find each other by name); the URL is
    // https://<api id>.execute-api.<region>.amazonaws.com/<stage>/ for the API named publishApiName.
    this.api.node.tryRemoveChild('Endpoint');
    this.addGatewayResponses();

    const validator = this.api.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const bodyModel = this.api.addModel('PublishRequest', {
      contentType: GATEWAY_JSON,
      modelName: 'PublishRequest',
      description: 'One event {event, payload, ...} or {entries: [...]}; the function checks the rest.',
      schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT },
    });

    const { options: methodAuth, authorizerFunction } = this.methodAuth(auth, props);
    this.authorizerFunction = authorizerFunction;
    const integration = new apigateway.LambdaIntegration(this.function, {
      proxy: true,
      allowTestInvoke: false,
    });
    const eventsResource = this.api.root.addResource('events');
    eventsResource.addMethod('POST', integration, {
      ...methodAuth,
      operationName: 'publishEvents',
      requestValidator: validator,
      requestModels: { [GATEWAY_JSON]: bodyModel },
    });
    eventsResource.addResource('{eventId}').addMethod('GET', integration, {
      ...methodAuth,
      operationName: 'getEventStatus',
      requestValidator: validator,
      requestParameters: { 'method.request.path.eventId': true, 'method.request.querystring.event': false },
    });

    if (auth.type === 'apiKey') {
      const plan = this.api.addUsagePlan('UsagePlan', {
        name: names.publishApiKeyName(ctx),
        description: 'Throttling of the default API key (the YAML publishApi.throttle).',
        throttle: { rateLimit, burstLimit },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      const key = this.api.addApiKey('ApiKey', {
        apiKeyName: names.publishApiKeyName(ctx),
        description: `Default key of ${names.publishApiName(ctx)}`,
      });
      plan.addApiKey(key);
      this.apiKey = key;
    }
    this.acknowledgeFindings(auth);
  }

  private methodAuth(
    auth: PublishApiAuth,
    props: PublishApiProps,
  ): { options: apigateway.MethodOptions; authorizerFunction?: RouterFunction } {
    switch (auth.type) {
      case 'iam':
        return { options: { authorizationType: apigateway.AuthorizationType.IAM } };
      case 'apiKey':
        return { options: { authorizationType: apigateway.AuthorizationType.NONE, apiKeyRequired: true } };
      case 'jwt': {
        const fn = new RouterFunction(this, 'JwtAuthorizer', {
          entry: JWT_AUTHORIZER_ENTRY,
          description: `Verifies JWTs from ${auth.issuer} for the publish API`,
          timeout: Duration.seconds(10),
          environment: { [JWT_ENV.issuer]: auth.issuer, [JWT_ENV.audience]: auth.audience.join(',') },
          ...(props.authorizerCode === undefined ? {} : { code: props.authorizerCode }),
        });
        const authorizer = new apigateway.TokenAuthorizer(this, 'Authorizer', {
          handler: fn,
          identitySource: apigateway.IdentitySource.header('Authorization'),
          validationRegex: '^Bearer [-0-9a-zA-Z._~+/]+=*$',
          resultsCacheTtl: Duration.minutes(5),
        });
        return {
          options: { authorizationType: apigateway.AuthorizationType.CUSTOM, authorizer },
          authorizerFunction: fn,
        };
      }
    }
  }

  /** API Gateway's own errors (auth, throttling, validation) as JSON in the same shape as the function's. */
  private addGatewayResponses(): void {
    const jsonMessage = { [GATEWAY_JSON]: '{"message":$context.error.messageString}' };
    this.api.addGatewayResponse('BadBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        [GATEWAY_JSON]:
          '{"message":"The request body must be a JSON object: {event, payload} or {entries: [...]}.","errors":[{"field":"body","message":"must be a JSON object"}]}',
      },
    });
    this.api.addGatewayResponse('BadParameters', {
      type: apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
      statusCode: '400',
      templates: {
        [GATEWAY_JSON]:
          '{"message":"eventId is missing.","errors":[{"field":"eventId","message":"is required"}]}',
      },
    });
    this.api.addGatewayResponse('TooLarge', {
      type: apigateway.ResponseType.REQUEST_TOO_LARGE,
      statusCode: '413',
      templates: {
        [GATEWAY_JSON]:
          '{"message":"The request is over 10 MB, API Gateway\'s limit. Send fewer entries per request.","errors":[{"field":"body","message":"is over 10 MB"}]}',
      },
    });
    this.api.addGatewayResponse('Default4xx', {
      type: apigateway.ResponseType.DEFAULT_4XX,
      templates: jsonMessage,
    });
    this.api.addGatewayResponse('Default5xx', {
      type: apigateway.ResponseType.DEFAULT_5XX,
      templates: jsonMessage,
    });
  }

  private acknowledgeFindings(auth: PublishApiAuth): void {
    acknowledge(
      this.api,
      'AwsSolutions-APIG3',
      'A WAF web ACL is an account-level choice (rules, cost); attach one to the stage when the API is public. Requests are authenticated and throttled.',
    );
    acknowledge(
      this.api,
      'AwsSolutions-APIG6',
      'Execution logging needs the account-wide API Gateway CloudWatch role, which this stack does not own; JSON access logs are on and the function logs every request it refuses.',
    );
    acknowledge(
      this.api,
      'AwsSolutions-COG4',
      `Callers authenticate with ${auth.type === 'iam' ? 'IAM (SigV4)' : auth.type === 'apiKey' ? 'an API key' : 'a JWT checked by the Lambda authorizer'}, as event-router.yaml chooses; a Cognito user pool is not required.`,
    );
    if (auth.type === 'apiKey')
      acknowledge(
        this.api,
        'AwsSolutions-APIG4',
        'event-router.yaml chooses API keys (publishApi.auth: apiKey): every method requires a key of the usage plan.',
      );
  }
}
