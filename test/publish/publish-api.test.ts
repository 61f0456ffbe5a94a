import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { BUNDLE_DEFINES, ENV } from '../../common/contracts.ts';
import type { PublishApiAuth, RouterSpec } from '../../lib/config/types.ts';
import { applyNagChecks } from '../../lib/constructs/nag.ts';
import { PublishApi } from '../../lib/constructs/publish-api.ts';
import { InvalidPropsError } from '../../lib/constructs/validation.ts';
import { planRouter } from '../../lib/plan/plan.ts';
import { tempOutdir } from '../support/cdk.ts';
import { makeSpec } from '../support/specs.ts';

function specWith(auth: PublishApiAuth, throttle = { rateLimit: 50, burstLimit: 80 }): RouterSpec {
  const base = makeSpec({
    app: 'cardflow',
    stage: 'dev',
    rpcs: [{ id: 'Ledger/Record' }, { id: 'Notify/Holder' }],
    subscriptions: [
      { event: 'card.used', rpc: 'Ledger/Record' },
      { event: 'card.used', rpc: 'Notify/Holder' },
    ],
  });
  return { ...base, app: { ...base.app, publishApi: { auth, ...throttle } } };
}

function synth(spec: RouterSpec) {
  const app = new App({ outdir: tempOutdir(), context: { 'aws:cdk:bundling-stacks': [] } });
  applyNagChecks(app);
  const stack = new Stack(app, 'Core');
  const bus = new events.EventBus(stack, 'Bus', { eventBusName: 'cardflow-dev-bus' });
  const table = new dynamodb.Table(stack, 'Deliveries', {
    partitionKey: { name: 'eventId', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'rpc', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  const api = new PublishApi(stack, 'PublishApi', { api: planRouter(spec).publishApi, bus, table });
  return { app, stack, api, template: Template.fromStack(stack) };
}

function nagFindings(app: App): string {
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: unknown[];
  };
  return JSON.stringify(report.pluginReports);
}

describe('PublishApi', () => {
  it('routes POST /events and GET /events/{eventId} to the publish function, validating requests', () => {
    const { template } = synth(specWith({ type: 'iam' }));
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'cardflow-dev-publish-api' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'events' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{eventId}' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      RequestValidatorId: Match.anyValue(),
      RequestModels: { 'application/json': Match.anyValue() },
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: { 'method.request.path.eventId': true, 'method.request.querystring.event': false },
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
    });
  });

  it('gives the function the bus, the table, the schemas and the subscriptions, and least privilege', () => {
    const { template, api } = synth(specWith({ type: 'iam' }));
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'cardflow-dev-publish',
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({
          [ENV.app]: 'cardflow',
          [ENV.eventBus]: Match.anyValue(),
          [ENV.deliveriesTable]: Match.anyValue(),
        }),
      },
    });
    const statements = JSON.stringify(
      template.findResources('AWS::IAM::Role', {
        Properties: { Description: 'Execution role of cardflow-dev-publish' },
      }),
    );
    assert.match(statements, /"Action":"events:PutEvents"/);
    // Query and GetItem read delivery records and receipts; PutItem writes a publish receipt (conditional).
    assert.match(statements, /"Action":\["dynamodb:Query","dynamodb:GetItem","dynamodb:PutItem"\]/);
    assert.doesNotMatch(statements, /dynamodb:(UpdateItem|DeleteItem|Scan|\*)/);
    assert.doesNotMatch(statements, /"Resource":"\*"/);
    assert.ok(api.function);
    const constants = planRouter(specWith({ type: 'iam' })).publishApi.constants;
    assert.deepEqual(JSON.parse(constants[ENV.subscriptions] ?? '{}'), {
      'card.used': ['Ledger/Record', 'Notify/Holder'],
    });
    const schemas = JSON.parse(constants[BUNDLE_DEFINES.eventSchemas] ?? '{}') as Record<
      string,
      Record<string, unknown>
    >;
    assert.equal(schemas['card.used']?.['x-schema-version'], 1);
  });

  it('throttles the stage as the YAML says and writes JSON access logs', () => {
    const { template } = synth(specWith({ type: 'iam' }, { rateLimit: 25, burstLimit: 40 }));
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 25,
          ThrottlingBurstLimit: 40,
        }),
      ]),
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"status"') },
    });
  });

  it('auth iam: every method requires SigV4', () => {
    const { template } = synth(specWith({ type: 'iam' }));
    const methods = template.findResources('AWS::ApiGateway::Method');
    assert.equal(Object.keys(methods).length, 2);
    for (const method of Object.values(methods))
      assert.equal(
        (method as { Properties: { AuthorizationType: string } }).Properties.AuthorizationType,
        'AWS_IAM',
      );
  });

  it('auth apiKey: methods require a key; a usage plan carries the throttling', () => {
    const { template } = synth(specWith({ type: 'apiKey' }, { rateLimit: 10, burstLimit: 20 }));
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', ApiKeyRequired: true });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', ApiKeyRequired: true });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 10, BurstLimit: 20 },
    });
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  it('auth jwt: a TOKEN authorizer configured with the issuer and audience guards every method', () => {
    const { template } = synth(
      specWith({ type: 'jwt', issuer: 'https://id.example.com/', audience: ['publish', 'ops'] }),
    );
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 300,
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'CUSTOM',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ER_JWT_ISSUER: 'https://id.example.com/',
          ER_JWT_AUDIENCE: 'publish,ops',
        }),
      },
    });
  });

  for (const auth of [
    { type: 'iam' },
    { type: 'apiKey' },
    { type: 'jwt', issuer: 'https://id.example.com', audience: ['a'] },
  ] as const)
    it(`passes the cdk-nag AwsSolutions checks (auth ${auth.type})`, () => {
      const { app } = synth(specWith(auth));
      assert.equal(nagFindings(app), '[]');
    });

  it('refuses bad settings, naming each field', () => {
    assert.throws(
      () =>
        synth(
          specWith({ type: 'jwt', issuer: 'id.example.com', audience: [] }, { rateLimit: 0, burstLimit: -1 }),
        ),
      (error: unknown) => {
        assert.ok(error instanceof InvalidPropsError);
        const text = error.problems.join('\n');
        assert.match(text, /throttle\.rateLimit is 0/);
        assert.match(text, /throttle\.burstLimit is -1/);
        assert.match(text, /auth\.issuer is "id\.example\.com"/);
        assert.match(text, /auth\.audience is empty/);
        return true;
      },
    );
  });
});
