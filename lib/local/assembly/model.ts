/**
 * What the runtime runs, read from the synthesized templates: queues, buses, rules and their
 * targets, tables, functions (with their bundle directory and resolved environment), event source
 * mappings and REST API routes. Resources with no local behaviour are listed as ignored; resources
 * the runtime cannot run are reported as problems that say so.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TableDefinition } from '../services/dynamodb/dynamodb.ts';
import type { ArchiveDefinition } from '../services/eventbridge/archives.ts';
import { DEFAULT_RETRY, type RuleDefinition, type RuleTarget } from '../services/eventbridge/bus.ts';
import { type InputTransformer, validateTransformer } from '../services/eventbridge/transformer.ts';
import { DEFAULT_QUEUE_CONFIG, type QueueConfig } from '../services/sqs/queue.ts';
import { type ResolveContext, Resolver } from './resolve.ts';
import { assetDirectory, type CfnResource, type CloudAssembly, type StackArtifact } from './template.ts';

export interface FunctionDefinition {
  readonly name: string;
  readonly arn: string;
  readonly stack: string;
  readonly logicalId: string;
  /** Directory of the bundled code. */
  readonly codeDir: string;
  /** `index.handler` -> module `index`, export `handler`. */
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Readonly<Record<string, string>>;
}

export interface EventSourceMappingDefinition {
  readonly id: string;
  readonly queueArn: string;
  readonly functionName: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maximumConcurrency: number;
  readonly reportBatchItemFailures: boolean;
  readonly enabled: boolean;
}

export interface ApiRoute {
  readonly apiId: string;
  readonly apiName: string;
  /** Resource path with `{param}` and `{proxy+}` segments, e.g. `/events/{id}`. */
  readonly resourcePath: string;
  readonly resourceId: string;
  /** `GET`, `POST`, ... or `ANY`. */
  readonly httpMethod: string;
  readonly functionName: string;
  readonly authorizationType: string;
}

export interface ApiDefinition {
  readonly id: string;
  readonly name: string;
  readonly stages: readonly string[];
  readonly routes: readonly ApiRoute[];
}

export interface LocalModel {
  readonly region: string;
  readonly account: string;
  readonly queues: readonly QueueConfig[];
  readonly buses: readonly string[];
  readonly rules: readonly RuleDefinition[];
  /** Event archives (AWS::Events::Archive): what they keep, for replays. */
  readonly archives: readonly ArchiveDefinition[];
  readonly tables: readonly TableDefinition[];
  readonly functions: readonly FunctionDefinition[];
  readonly mappings: readonly EventSourceMappingDefinition[];
  readonly apis: readonly ApiDefinition[];
  /** Resource types present that need no local behaviour (IAM, alarms, ...), with counts. */
  readonly ignored: Readonly<Record<string, number>>;
  /** Things the runtime cannot run, one readable sentence each. */
  readonly problems: readonly string[];
}

/** Types that have no behaviour to emulate locally. */
const IGNORED = new Set([
  'AWS::CDK::Metadata',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::Events::EventBusPolicy',
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::CompositeAlarm',
  'AWS::CloudWatch::Dashboard',
  'AWS::SNS::Topic',
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::Subscription',
  'AWS::Logs::LogGroup',
  'AWS::Lambda::Permission',
  'AWS::Lambda::Version',
  'AWS::Lambda::Alias',
  'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::Account',
  'AWS::ApiGateway::UsagePlan',
  'AWS::ApiGateway::UsagePlanKey',
  'AWS::ApiGateway::ApiKey',
  'AWS::ApiGateway::Authorizer',
  'AWS::ApiGateway::Model',
  'AWS::ApiGateway::RequestValidator',
  'AWS::ApiGateway::GatewayResponse',
  'AWS::SSM::Parameter',
  'Custom::LogRetention',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
]);

/** Types the runtime runs. */
const HANDLED = new Set([
  'AWS::SQS::Queue',
  'AWS::Events::EventBus',
  'AWS::Events::Archive',
  'AWS::Events::Rule',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Resource',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::Stage',
]);

function num(value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : fallback;
}

/** Default region and account when the stacks are environment-agnostic. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

/** Builds the local model of a cloud assembly. Throws only on unreadable templates. */
export function buildModel(assembly: CloudAssembly, baseUrl: string): LocalModel {
  const first = assembly.stacks[0];
  const ctx: ResolveContext = {
    region: first?.region ?? LOCAL_REGION,
    account: first?.account ?? LOCAL_ACCOUNT,
    baseUrl,
  };
  const r = new Resolver(assembly, ctx);
  const queues: QueueConfig[] = [];
  const buses: string[] = [];
  const rules: RuleDefinition[] = [];
  const archives: ArchiveDefinition[] = [];
  const tables: TableDefinition[] = [];
  const functions: FunctionDefinition[] = [];
  const mappings: EventSourceMappingDefinition[] = [];
  const ignored: Record<string, number> = {};
  const problems: string[] = [];
  const apiParts: Array<{ stack: StackArtifact; id: string; resource: CfnResource }> = [];

  for (const stack of assembly.stacks) {
    for (const [id, resource] of Object.entries(stack.template.Resources ?? {})) {
      const where = `${stack.name}/${id}`;
      try {
        if (!r.included(stack, resource)) continue;
        if (IGNORED.has(resource.Type) || resource.Type.startsWith('Custom::')) {
          ignored[resource.Type] = (ignored[resource.Type] ?? 0) + 1;
          continue;
        }
        if (!HANDLED.has(resource.Type)) {
          problems.push(
            `${where}: resource type ${resource.Type} is not run by the local runtime; it is skipped.`,
          );
          continue;
        }
        const p = (r.resolve(stack, resource.Properties ?? {}, id) ?? {}) as Record<string, unknown>;
        switch (resource.Type) {
          case 'AWS::SQS::Queue':
            queues.push(queueConfig(r.identity(stack, id).attributes.QueueName ?? id, p));
            break;
          case 'AWS::Events::EventBus':
            buses.push(r.identity(stack, id).attributes.Name ?? id);
            break;
          case 'AWS::Events::Archive':
            archives.push(archiveDefinition(r.identity(stack, id).ref, p));
            break;
          case 'AWS::Events::Rule': {
            const rule = ruleDefinition(r.identity(stack, id).ref, p, where, problems);
            if (rule) rules.push(rule);
            break;
          }
          case 'AWS::DynamoDB::Table':
          case 'AWS::DynamoDB::GlobalTable':
            tables.push({ ...(p as unknown as TableDefinition), TableName: r.identity(stack, id).ref });
            break;
          case 'AWS::Lambda::Function': {
            const fn = functionDefinition(assembly, stack, id, resource, p, r, problems);
            if (fn) functions.push(fn);
            break;
          }
          case 'AWS::Lambda::EventSourceMapping': {
            const mapping = mappingDefinition(id, p, where, problems);
            if (mapping) mappings.push(mapping);
            break;
          }
          default:
            apiParts.push({ stack, id, resource: { ...resource, Properties: p } });
        }
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
      }
    }
  }
  const apis = apiDefinitions(apiParts, r, problems);
  return {
    region: ctx.region,
    account: ctx.account,
    queues,
    buses,
    rules,
    archives,
    tables,
    functions,
    mappings,
    apis,
    ignored,
    problems,
  };
}

function queueConfig(name: string, p: Record<string, unknown>): QueueConfig {
  const redrive = p.RedrivePolicy as { deadLetterTargetArn?: string; maxReceiveCount?: unknown } | undefined;
  return {
    ...DEFAULT_QUEUE_CONFIG,
    name,
    visibilityTimeout: num(p.VisibilityTimeout, DEFAULT_QUEUE_CONFIG.visibilityTimeout),
    messageRetentionPeriod: num(p.MessageRetentionPeriod, DEFAULT_QUEUE_CONFIG.messageRetentionPeriod),
    delaySeconds: num(p.DelaySeconds, 0),
    receiveMessageWaitTimeSeconds: num(p.ReceiveMessageWaitTimeSeconds, 0),
    maximumMessageSize: num(p.MaximumMessageSize, DEFAULT_QUEUE_CONFIG.maximumMessageSize),
    ...(redrive?.deadLetterTargetArn
      ? {
          redrivePolicy: {
            deadLetterTargetArn: redrive.deadLetterTargetArn,
            maxReceiveCount: num(redrive.maxReceiveCount, 10),
          },
        }
      : {}),
    ...(p.RedriveAllowPolicy ? { redriveAllowPolicy: JSON.stringify(p.RedriveAllowPolicy) } : {}),
    sqsManagedSseEnabled: p.SqsManagedSseEnabled === true || p.SqsManagedSseEnabled === 'true',
    ...(p.FifoQueue === true || p.FifoQueue === 'true'
      ? {
          fifoQueue: true,
          contentBasedDeduplication:
            p.ContentBasedDeduplication === true || p.ContentBasedDeduplication === 'true',
          ...(p.DeduplicationScope === 'messageGroup' ? { deduplicationScope: 'messageGroup' as const } : {}),
          ...(p.FifoThroughputLimit === 'perMessageGroupId'
            ? { fifoThroughputLimit: 'perMessageGroupId' as const }
            : {}),
        }
      : {}),
    ...(typeof p.KmsMasterKeyId === 'string' ? { kmsMasterKeyId: p.KmsMasterKeyId } : {}),
  };
}

/** One AWS::Events::Rule as the runtime runs it; what it cannot run (or AWS would refuse) goes to `problems`. */
/** An archive of the templates: name, source bus, pattern, retention. */
export function archiveDefinition(name: string, p: Record<string, unknown>): ArchiveDefinition {
  const pattern = typeof p.EventPattern === 'string' ? JSON.parse(p.EventPattern) : p.EventPattern;
  return {
    name,
    sourceArn: String(p.SourceArn),
    ...(pattern !== undefined ? { pattern } : {}),
    ...(p.RetentionDays !== undefined ? { retentionDays: num(p.RetentionDays, 0) } : {}),
    ...(typeof p.Description === 'string' ? { description: p.Description } : {}),
  };
}

export function ruleDefinition(
  name: string,
  p: Record<string, unknown>,
  where: string,
  problems: string[],
): RuleDefinition | undefined {
  if (p.ScheduleExpression !== undefined) {
    problems.push(`${where}: scheduled rules are not run by the local runtime; it is skipped.`);
    return undefined;
  }
  const pattern = typeof p.EventPattern === 'string' ? JSON.parse(p.EventPattern) : p.EventPattern;
  const targets: RuleTarget[] = [];
  for (const t of (p.Targets as Array<Record<string, unknown>> | undefined) ?? []) {
    const arn = String(t.Arn);
    if (!arn.startsWith('arn:aws:sqs:')) {
      problems.push(
        `${where}: target ${String(t.Id)} (${arn}) is not an SQS queue; only SQS targets are run locally.`,
      );
      continue;
    }
    // What EventBridge refuses when the target is put (PutTargets), so the target would not exist.
    const inputs = ['Input', 'InputPath', 'InputTransformer'].filter((k) => t[k] !== undefined);
    if (inputs.length > 1) {
      problems.push(
        `${where}: target ${String(t.Id)}: Only one of Input, InputPath, or InputTransformer must be provided for target ${String(t.Id)}. It has ${inputs.join(' and ')}; EventBridge refuses this target, so it is skipped.`,
      );
      continue;
    }
    if (t.InputTransformer) {
      const invalid = validateTransformer(t.InputTransformer as InputTransformer, String(t.Id));
      if (invalid.length > 0) {
        problems.push(
          `${where}: target ${String(t.Id)}: ${invalid.join(' ')} EventBridge refuses this target; it is skipped.`,
        );
        continue;
      }
    }
    const retry = t.RetryPolicy as
      | { MaximumRetryAttempts?: unknown; MaximumEventAgeInSeconds?: unknown }
      | undefined;
    const dlc = t.DeadLetterConfig as { Arn?: string } | undefined;
    targets.push({
      id: String(t.Id),
      arn,
      ...(t.InputTransformer ? { inputTransformer: t.InputTransformer as InputTransformer } : {}),
      ...(typeof t.Input === 'string' ? { input: t.Input } : {}),
      ...(typeof t.InputPath === 'string' ? { inputPath: t.InputPath } : {}),
      ...(dlc?.Arn ? { deadLetterArn: dlc.Arn } : {}),
      retryPolicy: {
        maximumRetryAttempts: num(retry?.MaximumRetryAttempts, DEFAULT_RETRY.maximumRetryAttempts),
        maximumEventAgeInSeconds: num(
          retry?.MaximumEventAgeInSeconds,
          DEFAULT_RETRY.maximumEventAgeInSeconds,
        ),
      },
    });
  }
  const bus = typeof p.EventBusName === 'string' ? (p.EventBusName.split('/').pop() ?? 'default') : 'default';
  return { name, busName: bus, pattern, enabled: p.State !== 'DISABLED', targets };
}

function functionDefinition(
  assembly: CloudAssembly,
  stack: StackArtifact,
  id: string,
  resource: CfnResource,
  p: Record<string, unknown>,
  r: Resolver,
  problems: string[],
): FunctionDefinition | undefined {
  const where = `${stack.name}/${id}`;
  const identity = r.identity(stack, id);
  const runtime = String(p.Runtime ?? '');
  if (!runtime.startsWith('nodejs')) {
    problems.push(
      `${where}: runtime "${runtime}" cannot run locally (only Node.js functions do); it is skipped.`,
    );
    return undefined;
  }
  const codeDir = assetDirectory(assembly, stack, resource);
  if (!codeDir || !existsSync(codeDir)) {
    problems.push(
      `${where}: its bundled code is not in ${assembly.dir} (${codeDir ?? 'no asset path'}); re-synthesize the app.`,
    );
    return undefined;
  }
  const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(variables))
    environment[k] = typeof v === 'string' ? v : JSON.stringify(v);
  const handler = String(p.Handler ?? 'index.handler');
  const moduleName = handler.slice(0, handler.lastIndexOf('.'));
  if (!['.mjs', '.js', '.cjs'].some((ext) => existsSync(join(codeDir, `${moduleName}${ext}`)))) {
    problems.push(
      `${where}: handler module ${moduleName}.mjs/.js is not in ${codeDir}; re-synthesize the app.`,
    );
    return undefined;
  }
  return {
    name: identity.ref,
    arn: identity.attributes.Arn ?? identity.ref,
    stack: stack.name,
    logicalId: id,
    codeDir,
    handler,
    runtime,
    timeoutSeconds: num(p.Timeout, 3),
    memoryMb: num(p.MemorySize, 128),
    environment,
  };
}

function mappingDefinition(
  id: string,
  p: Record<string, unknown>,
  where: string,
  problems: string[],
): EventSourceMappingDefinition | undefined {
  const source = String(p.EventSourceArn ?? '');
  if (!source.startsWith('arn:aws:sqs:')) {
    problems.push(
      `${where}: event source ${source} is not an SQS queue; only SQS event sources are run locally.`,
    );
    return undefined;
  }
  const fn = String(p.FunctionName ?? '');
  const scaling = p.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
  return {
    id,
    queueArn: source,
    functionName: fn.includes(':function:') ? (fn.split(':function:')[1]?.split(':')[0] ?? fn) : fn,
    batchSize: num(p.BatchSize, 10),
    batchingWindowSeconds: num(p.MaximumBatchingWindowInSeconds, 0),
    maximumConcurrency: num(scaling?.MaximumConcurrency, 5),
    reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes(
      'ReportBatchItemFailures',
    ),
    enabled: p.Enabled !== false && p.Enabled !== 'false',
  };
}

function apiDefinitions(
  parts: Array<{ stack: StackArtifact; id: string; resource: CfnResource }>,
  r: Resolver,
  problems: string[],
): ApiDefinition[] {
  const apis = new Map<string, { name: string; stages: string[]; routes: ApiRoute[] }>();
  const resources = new Map<string, { parent: string; part: string }>();
  for (const { stack, id, resource } of parts) {
    const p = resource.Properties ?? {};
    if (resource.Type === 'AWS::ApiGateway::RestApi') {
      const apiId = r.identity(stack, id).ref;
      apis.set(apiId, { name: String(p.Name ?? id), stages: [], routes: [] });
    } else if (resource.Type === 'AWS::ApiGateway::Resource') {
      resources.set(r.identity(stack, id).ref, { parent: String(p.ParentId), part: String(p.PathPart) });
    }
  }
  const pathOf = (resourceId: string): string => {
    if (resourceId.endsWith('-root')) return '/';
    const parts: string[] = [];
    let current: string | undefined = resourceId;
    for (let guard = 0; current && !current.endsWith('-root') && guard < 50; guard++) {
      const res = resources.get(current);
      if (!res) break;
      parts.unshift(res.part);
      current = res.parent;
    }
    return `/${parts.join('/')}`;
  };
  for (const { stack, id, resource } of parts) {
    const p = resource.Properties ?? {};
    const api = apis.get(String(p.RestApiId));
    if (resource.Type === 'AWS::ApiGateway::Stage' && api) api.stages.push(String(p.StageName));
    if (resource.Type !== 'AWS::ApiGateway::Method' || !api) continue;
    const integration = p.Integration as { Type?: string; Uri?: unknown } | undefined;
    const method = String(p.HttpMethod ?? 'ANY').toUpperCase();
    if (method === 'OPTIONS' && integration?.Type === 'MOCK') continue;
    if (integration?.Type !== 'AWS_PROXY') {
      problems.push(
        `${stack.name}/${id}: API method ${method} uses integration ${integration?.Type ?? 'none'}; only Lambda proxy integrations run locally.`,
      );
      continue;
    }
    const fn = /function:([^/:]+)/.exec(String(integration.Uri ?? ''))?.[1];
    if (!fn) {
      problems.push(`${stack.name}/${id}: cannot tell which function API method ${method} invokes.`);
      continue;
    }
    const resourceId = String(p.ResourceId);
    api.routes.push({
      apiId: String(p.RestApiId),
      apiName: api.name,
      resourcePath: pathOf(resourceId),
      resourceId,
      httpMethod: method,
      functionName: fn,
      authorizationType: String(p.AuthorizationType ?? 'NONE'),
    });
  }
  void r;
  return [...apis.entries()].map(([id, a]) => ({
    id,
    name: a.name,
    stages: a.stages.length > 0 ? a.stages : ['prod'],
    routes: a.routes,
  }));
}
