/**
 * The plan: everything the CDK constructs need to declare a router, as plain data.
 *
 * The planner turns a RouterSpec into a Plan with pure functions; the constructs only read it. So every
 * decision about grouping, limits, names and stack placement is testable without CDK.
 */

import type { JsonSchema, PublishApiAuth, PublisherIdentity, RpcSettings } from '../config/types.ts';
import type { NameContext } from '../naming.ts';

/** The core stack: what every service stack finds by name. */
export interface CorePlan {
  readonly stackName: string;
  readonly busName: string;
  readonly archiveName: string;
  /** Days the archive keeps events; 0 = forever. */
  readonly archiveRetentionDays: number;
  readonly deliveriesTableName: string;
  /** The deliveries table's sparse index of dead deliveries (DEAD_INDEX), which `failures` queries. */
  readonly deadIndexName: string;
  readonly alarmTopicName: string;
  /**
   * What the name of every alarm of the router starts with (`<app>-<stage>-`): only alarms so named may
   * publish to the alarm topic (an `aws:SourceArn` condition on the topic and key policies).
   */
  readonly alarmNamePrefix: string;
}

/** How one RPC's worker runs its RPC. */
export type RpcRunner =
  | { readonly kind: 'handler' }
  | {
      readonly kind: 'remote';
      /** Full Connect URL: `<baseUrl>/<package>.<Service>/<Method>`. */
      readonly url: string;
      /** Per-call timeout, kept below the function timeout so the worker can record the failure. */
      readonly timeoutMs: number;
    };

/** One RPC: its queue, dead-letter queue, worker and alarm. */
export interface RpcPlan {
  /** `Service/Method`. */
  readonly id: string;
  readonly service: string;
  readonly method: string;
  readonly description?: string;
  readonly runner: RpcRunner;
  /** Absolute path of the module the worker bundle is built from. */
  readonly entry: string;
  readonly settings: RpcSettings;
  /** >= 6 x the function timeout (plus the batching window), <= 12 h. */
  readonly visibilityTimeoutSeconds: number;
  readonly queueName: string;
  readonly dlqName: string;
  readonly functionName: string;
  readonly alarmName: string;
  /** Backlog and error-rate alarms (the DLQ-depth alarm is `alarmName`). */
  readonly alarms: RpcAlarmsPlan;
  /** Event names this RPC may publish (its worker gets PutEvents for exactly these). */
  readonly publishes: readonly string[];
  /** EventBridge source of its follow-ups (`publisherSource(app, rpcId)`); its PutEvents grant allows only this. */
  readonly source: string;
  /**
   * Payload schema of every event it publishes, each with its schema version under `x-schema-version`:
   * the worker validates a follow-up before it is sent (bundle define).
   */
  readonly publishedSchemas: Readonly<Record<string, JsonSchema>>;
  /** Event names delivered to it, in declaration order, without duplicates. */
  readonly subscribedEvents: readonly string[];
  /** Payload schema of every subscribed event: the worker validates against them (bundle define). */
  readonly eventSchemas: Readonly<Record<string, JsonSchema>>;
  /** Name of the stack that holds it. */
  readonly stackName: string;
}

/** The alarms of one RPC besides its DLQ depth, with their thresholds. */
export interface RpcAlarmsPlan {
  /** Alarm on ApproximateAgeOfOldestMessage of the queue. */
  readonly backlogAlarmName: string;
  /** Seconds the oldest message may wait before the backlog alarm fires (explicit, or planned). */
  readonly backlogAgeSeconds: number;
  /** Alarm on Errors / Invocations of the worker (metric math). */
  readonly errorRateAlarmName: string;
  /** Percent of failed invocations in a window that counts as breaching. */
  readonly errorRatePercent: number;
  /** Invocations a window needs before its error rate counts. */
  readonly minInvocations: number;
}

/** Where every alarm of the router notifies. */
export interface AlarmsPlan {
  /**
   * ARN of an existing topic named in the YAML.
   * @default - the router's own topic (`core.alarmTopicName`)
   */
  readonly topicArn?: string;
  /** Whether alarms notify on their return to OK too. */
  readonly okActions: boolean;
}

/** One target of a rule: an RPC's queue. */
export interface RuleTargetPlan {
  /** Target id, unique within its rule. */
  readonly id: string;
  readonly rpc: string;
  /** InputTemplate of the input transformer (`inputTemplateFor(rpc)`). */
  readonly inputTemplate: string;
  readonly queueName: string;
  readonly dlqName: string;
}

/** One EventBridge rule: an event (with one filter) delivered to at most 5 RPCs of one service. */
export interface RulePlan {
  readonly name: string;
  readonly eventName: string;
  /** The subscribing service; the rule lives in (a shard of) its stack. */
  readonly service: string;
  readonly filter?: Record<string, unknown>;
  /** Sources of the event's declared publishers: the only senders whose events the rule matches. */
  readonly sources: readonly string[];
  /** The complete event pattern (`rulePatternFor(eventName, sources, filter)`). */
  readonly pattern: Record<string, unknown>;
  /** 1..5 targets. */
  readonly targets: readonly RuleTargetPlan[];
  readonly stackName: string;
  /**
   * Name of the rule's FailedInvocations alarm.
   * @default - no alarm (rules planned outside planRouter)
   */
  readonly failedInvocationsAlarmName?: string;
}

/** One service stack (or one shard of a service that did not fit one stack). */
export interface ServiceStackPlan {
  readonly stackName: string;
  readonly service: string;
  /** 0 for the first stack of a service, 1 for `-2`, ... */
  readonly shard: number;
  readonly rpcs: readonly RpcPlan[];
  readonly rules: readonly RulePlan[];
  /** CloudFormation resources the constructs will create in this stack (see estimate.ts). */
  readonly estimatedResources: number;
  /** The managed policy that lets ops inspect and redrive this stack's DLQs. */
  readonly dlqOperatorPolicyName: string;
  /** Its read-only twin. */
  readonly dlqViewerPolicyName: string;
}

/** Something worth telling the user that does not stop synthesis. */
export interface PlanWarning {
  /** Stable code, e.g. `bus-rule-quota`. */
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

/** An external publisher: its source, its events and how it proves who it is. */
export interface PublisherPlan {
  /** PascalCase name from `publishers:`. */
  readonly name: string;
  /** Its EventBridge source (`publisherSource(app, name)`). */
  readonly source: string;
  /** The events it may publish. */
  readonly events: readonly string[];
  /** How the publish API recognizes it; undefined when it does not use the API. */
  readonly identity?: PublisherIdentity;
  /** Name of the managed policy to attach to its role when it puts events on the bus itself. */
  readonly policyName?: string;
}

/** The HTTP publish API and its function. */
export interface PublishApiPlan {
  readonly names: NameContext;
  /** How callers authenticate (`app.publishApi.auth`). */
  readonly auth: PublishApiAuth;
  /** Stage (and usage plan) throttling: steady requests per second. */
  readonly rateLimit: number;
  /** Stage (and usage plan) throttling: burst. */
  readonly burstLimit: number;
  /** Seconds a publish receipt is kept (as long as delivery records). */
  readonly recordRetentionSeconds: number;
  readonly functionName: string;
  readonly apiName: string;
  /** The usage plan, and the default API key when no publisher declares one (auth `apiKey`). */
  readonly apiKeyName: string;
  /** The bus it publishes to (named in the API's description). */
  readonly busName: string;
  /** The external publishers the API serves (identity of the API's auth type, at least one event). */
  readonly served: readonly PublisherPlan[];
  /** Publisher name -> name of its API key (auth `apiKey`: `<publish API name>-<key name, kebab-case>`). */
  readonly publisherKeyNames: Readonly<Record<string, string>>;
  /** String constants compiled into the publish function (schemas, subscriptions, publishers). */
  readonly constants: Readonly<Record<string, string>>;
}

export interface Plan {
  readonly names: NameContext;
  readonly core: CorePlan;
  /** Seconds a delivery record is kept (ER_RECORD_RETENTION_SECONDS). */
  readonly dedupRetentionSeconds: number;
  /** The topic of every alarm, and whether OK is notified too. */
  readonly alarms: AlarmsPlan;
  /** Service stacks in service declaration order, shards in order. */
  readonly stacks: readonly ServiceStackPlan[];
  /** Every RPC, in declaration order. */
  readonly rpcs: readonly RpcPlan[];
  /** Every rule on the bus. */
  readonly rules: readonly RulePlan[];
  /** External publishers, in declaration order. */
  readonly publishers: readonly PublisherPlan[];
  readonly publishApi: PublishApiPlan;
  /** The managed policy of the router's ops records (audit trail, edit notes), in the core stack. */
  readonly opsRecordsPolicyName: string;
  /** What every replay name of the router starts with (the ops records policy grants replays so named). */
  readonly replayNamePrefix: string;
  readonly warnings: readonly PlanWarning[];
}

/** Knobs of the planner; the defaults are what the CDK app uses. */
export interface PlanOptions {
  /**
   * Resources a service stack may hold before the service is split into another shard. CloudFormation
   * allows 500; the margin leaves room for resources added by hand or by a future version.
   * @default 450
   */
  readonly stackResourceBudget?: number;
  /**
   * Rules the bus may hold before the planner warns (the default EventBridge quota per bus).
   * @default 300
   */
  readonly busRuleQuota?: number;
  /**
   * Module run by the worker of a remote RPC.
   * @default - `functions/remote-rpc/index.ts` of this package
   */
  readonly remoteEntry?: string;
}
