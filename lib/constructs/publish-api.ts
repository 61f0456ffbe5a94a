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
import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, JWT_ENV } from '../../common/contracts.ts';
import { API_KEY_PUBLISHERS_ENV } from '../../common/publishers.ts';
import type { PublishApiAuth } from '../config/types.ts';
import type { PublishApiPlan, PublisherPlan } from '../plan/types.ts';
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
  /** The plan of the API (planRouter(spec).publishApi): names, auth, throttling, served publishers, constants. */
  readonly api: PublishApiPlan;
  /** The bus events are published to; the function may PutEvents on it and nothing else. */
  readonly bus: events.IEventBus;
  /** The deliveries table; the function reads delivery records and writes publish receipts there. */
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

/** Every problem with the publish API settings of the plan. */
export function validatePublishApiProps(props: PublishApiProps): string[] {
  const problems: string[] = [];
  const publishApi = props.api;
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
 * - the publish function (RouterFunction): `events:PutEvents` on the bus only with the source of a
 *   publisher it serves and only that publisher's events (one statement per publisher), `dynamodb:Query`,
 *   `GetItem` and `PutItem` on the table (delivery records and publish receipts);
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
    const plan = props.api;
    const ctx = plan.names;
    const { auth, rateLimit, burstLimit, served } = plan;

    this.function = new RouterFunction(this, 'Function', {
      entry: PUBLISH_FUNCTION_ENTRY,
      functionName: plan.functionName,
      description: `Publish API of ${ctx.app}/${ctx.stage}: POST /events, GET /events/{eventId}`,
      timeout: Duration.seconds(25),
      memorySize: 512,
      environment: {
        [ENV.app]: ctx.app,
        [ENV.stage]: ctx.stage,
        [ENV.eventBus]: props.bus.eventBusName,
        [ENV.deliveriesTable]: props.table.tableName,
        [ENV.recordRetentionSeconds]: String(plan.recordRetentionSeconds),
      },
      constants: plan.constants,
      policyStatements: [
        // Each served publisher's events only under that publisher's source (as the function stamps
        // them), so a caller can never pass its events off as another publisher's or an RPC's follow-ups.
        ...served.map(
          (publisher) =>
            new iam.PolicyStatement({
              sid: `Publish${publisher.name}`.slice(0, 100),
              actions: ['events:PutEvents'],
              resources: [props.bus.eventBusArn],
              conditions: {
                StringEquals: {
                  'events:source': publisher.source,
                  'events:detail-type': [...publisher.events],
                },
              },
            }),
        ),
        new iam.PolicyStatement({
          sid: 'DeliveriesAndReceipts',
          actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem'],
          resources: [props.table.tableArn],
        }),
      ],
      ...(props.code === undefined ? {} : { code: props.code }),
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: plan.apiName,
      description: `Publish events to ${plan.busName} and read their delivery status`,
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
      const apiKeys = this.publisherKeys(
        plan,
        served.filter((p) => p.identity?.kind === 'apiKey'),
      );
      if (apiKeys.length > 0)
        this.function.addEnvironment(
          API_KEY_PUBLISHERS_ENV,
          Stack.of(this).toJsonString(apiKeys.map(({ key, publisher }) => [key.keyId, publisher])),
        );
      const usagePlan = this.api.addUsagePlan('UsagePlan', {
        name: plan.apiKeyName,
        description: "Throttling of the publishers' API keys (the YAML publishApi.throttle).",
        throttle: { rateLimit, burstLimit },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      for (const { key } of apiKeys) usagePlan.addApiKey(key);
      if (apiKeys.length === 0) {
        // No publisher declares a key: a default key (it maps to no publisher, so it may publish nothing).
        const key = this.api.addApiKey('ApiKey', {
          apiKeyName: plan.apiKeyName,
          description: `Default key of ${plan.apiName}`,
        });
        usagePlan.addApiKey(key);
        this.apiKey = key;
      } else this.apiKey = apiKeys[0]?.key;
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
          environment: {
            [JWT_ENV.issuer]: auth.issuer,
            [JWT_ENV.audience]: auth.audience.join(','),
            // The claims publishers are recognized by, passed on to the publish function.
            [JWT_ENV.claims]: [
              ...new Set(
                props.api.served.flatMap((p) => (p.identity?.kind === 'jwt' ? [p.identity.claim] : [])),
              ),
            ].join(','),
          },
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

  /** One API key per publisher that declares one, named `<app>-<stage>-publish-api-<key name>`. */
  private publisherKeys(
    plan: PublishApiPlan,
    publishers: readonly PublisherPlan[],
  ): { key: apigateway.IApiKey; publisher: string }[] {
    return publishers.map((publisher) => {
      const key = this.api.addApiKey(`ApiKey${publisher.name}`, {
        apiKeyName: plan.publisherKeyNames[publisher.name] ?? publisher.name,
        description: `API key of publisher ${publisher.name} on ${plan.apiName}`,
      });
      return { key, publisher: publisher.name };
    });
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
