/**
 * Everything one RPC owns: its queue and dead-letter queue, its worker function fed by the queue, the
 * worker's least-privilege rights and its alarms: dead-letter queue depth, backlog and error rate.
 */

import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CLOUDWATCH, LAMBDA, SQS } from '../../common/aws-limits.ts';
import { BUNDLE_DEFINES, ENV } from '../../common/contracts.ts';
import type { NameContext } from '../naming.ts';
import { MAX_VISIBILITY_TIMEOUT_SECONDS } from '../plan/rpcs.ts';
import type { RpcPlan } from '../plan/types.ts';
import { backlogAlarm, errorRateAlarm, notifyAlarmTopic } from './alarms.ts';
import { RouterFunction } from './router-function.ts';
import { queueArnFor, type RouterRefs } from './router-refs.ts';
import { checkRange, failOnProblems } from './validation.ts';

export interface RpcWorkerProps {
  /** The RPC as planned (names, settings, entry, runner). */
  readonly rpc: RpcPlan;
  /** App and stage (stamped into the worker's environment). */
  readonly names: NameContext;
  /** Bus, deliveries table and alarm topic, found by name. */
  readonly refs: RouterRefs;
  /** Seconds a delivery record is kept (ER_RECORD_RETENTION_SECONDS). */
  readonly recordRetentionSeconds: number;
  /**
   * Ready-made bundle of the worker.
   * @default - the entry is bundled by esbuild at synth time
   */
  readonly code?: lambda.Code;
  /**
   * Retention of the worker's log group.
   * @default - RouterFunction's default (one month)
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The compile-time constants of an RPC's worker (esbuild `define` here, declarations in the prebundler's
 * banner): the payload schemas of the events it subscribes to, and of those it publishes (a follow-up is
 * validated before it is sent).
 */
export function workerConstants(rpc: RpcPlan): Record<string, string> {
  return {
    [BUNDLE_DEFINES.eventSchemas]: JSON.stringify(rpc.eventSchemas),
    [BUNDLE_DEFINES.publishedSchemas]: JSON.stringify(rpc.publishedSchemas),
  };
}

/**
 * One RPC's queue, DLQ, worker and alarm.
 *
 * Queues use SSE-SQS (EventBridge cannot deliver to a queue encrypted with the AWS-managed SQS KMS key)
 * and deny any request not made over TLS. The queue moves a message to the DLQ after `maxReceiveCount`
 * receives; the DLQ accepts only this queue as its source. Call `allowRules` with the ARNs of the rules
 * that deliver here: only those rules may send to the queue and to the DLQ (their dead-letter target).
 */
export class RpcWorker extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: RouterFunction;
  readonly eventSource: lambda.EventSourceMapping;
  readonly alarm: cloudwatch.Alarm;
  /** Age of the oldest message on the queue. */
  readonly backlogAlarm: cloudwatch.Alarm;
  /** Errors / Invocations of the worker. */
  readonly errorRateAlarm: cloudwatch.Alarm;
  readonly rpc: RpcPlan;
  private readonly ruleArns: string[] = [];
  private allowCalls = 0;

  constructor(scope: Construct, id: string, props: RpcWorkerProps) {
    super(scope, id);
    failOnProblems(scope, `RpcWorker ${id} (${props.rpc.id})`, validateRpcWorkerProps(props));
    const { rpc, refs } = props;
    const settings = rpc.settings;
    this.rpc = rpc;
    if (settings.queueRetentionSeconds > settings.dlqRetentionSeconds) {
      Annotations.of(this).addWarningV2(
        '@event-router/dlq-retention',
        `${rpc.id}: the queue keeps messages ${settings.queueRetentionSeconds} s but its DLQ only ${settings.dlqRetentionSeconds} s. A message keeps its original enqueue time when it moves to the DLQ, so it may expire there almost at once. Make dlqRetention at least queueRetention.`,
      );
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: rpc.dlqName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(settings.dlqRetentionSeconds),
      // Only this RPC's queue may use it as its DLQ. The source is named by ARN (built from the queue's
      // name), because referencing the queue itself would make the two queues depend on each other.
      redriveAllowPolicy: {
        redrivePermission: sqs.RedrivePermission.BY_QUEUE,
        sourceQueues: [sqs.Queue.fromQueueArn(this, 'SourceQueue', queueArnFor(this, rpc.queueName))],
      },
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: rpc.queueName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(settings.queueRetentionSeconds),
      visibilityTimeout: Duration.seconds(rpc.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    });

    this.function = new RouterFunction(this, 'Worker', {
      entry: rpc.entry,
      functionName: rpc.functionName,
      description: `Worker of ${rpc.id}`,
      timeout: Duration.seconds(settings.timeoutSeconds),
      memorySize: settings.memoryMb,
      environment: this.environment(props),
      constants: workerConstants(rpc),
      policyStatements: this.policyStatements(refs),
      ...(props.logRetention === undefined ? {} : { logRetention: props.logRetention }),
      ...(props.code === undefined ? {} : { code: props.code }),
    });

    this.eventSource = new lambda.EventSourceMapping(this, 'QueueSource', {
      target: this.function,
      eventSourceArn: this.queue.queueArn,
      batchSize: settings.batchSize,
      ...(settings.batchingWindowSeconds > 0
        ? { maxBatchingWindow: Duration.seconds(settings.batchingWindowSeconds) }
        : {}),
      maxConcurrency: settings.maxConcurrency,
      reportBatchItemFailures: true,
    });

    this.alarm = new cloudwatch.Alarm(this, 'DeadLetterDepth', {
      alarmName: rpc.alarmName,
      alarmDescription: `Messages of ${rpc.id} are waiting in its dead-letter queue ${rpc.dlqName}: inspect and redrive them.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notifyAlarmTopic(this.alarm, refs);
    this.backlogAlarm = backlogAlarm(this, rpc.id, this.queue, rpc.alarms, refs);
    this.errorRateAlarm = errorRateAlarm(this, rpc.id, this.function, rpc.alarms, refs);
  }

  /** ARNs of the rules allowed to send to the queue so far. */
  get allowedRules(): readonly string[] {
    return this.ruleArns;
  }

  /**
   * Lets these rules (and only them) send to the queue, and to the DLQ as their dead-letter target.
   * One statement per queue names every allowed rule in its `aws:SourceArn` condition.
   */
  allowRules(ruleArns: readonly string[]): void {
    if (ruleArns.length === 0) return;
    this.ruleArns.push(...ruleArns);
    this.allowCalls += 1;
    const suffix = this.allowCalls === 1 ? '' : String(this.allowCalls);
    for (const [queue, sid] of [
      [this.queue, 'DeliverFromRules'],
      [this.deadLetterQueue, 'DeadLetterFromRules'],
    ] as const) {
      queue.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `${sid}${suffix}`,
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': [...ruleArns] } },
        }),
      );
    }
  }

  private environment(props: RpcWorkerProps): Record<string, string> {
    const { rpc, refs, names } = props;
    return {
      [ENV.app]: names.app,
      [ENV.stage]: names.stage,
      [ENV.rpc]: rpc.id,
      [ENV.deliveriesTable]: refs.tableName,
      [ENV.dlqUrl]: this.deadLetterQueue.queueUrl,
      [ENV.eventBus]: refs.bus.eventBusName,
      [ENV.maxReceiveCount]: String(rpc.settings.maxReceiveCount),
      [ENV.recordRetentionSeconds]: String(props.recordRetentionSeconds),
      ...(rpc.runner.kind === 'remote'
        ? { [ENV.remoteUrl]: rpc.runner.url, [ENV.remoteTimeoutMs]: String(rpc.runner.timeoutMs) }
        : {}),
    };
  }

  /**
   * The worker's rights, written out: its own queue, its own DLQ, the deliveries table, and (maybe) the bus.
   * Each action is one the worker code or its event source mapping calls: the mapping receives, deletes and
   * reads the queue's attributes; the worker changes visibility (backoff), sends a message back to its
   * queue when its receives are used up, sends poison messages to its DLQ,
   * writes delivery records (a new delivery is claimed with a conditional PutItem, `attribute_not_exists`;
   * every later write is a conditional UpdateItem; a duplicate's record is read with GetItem) and
   * publishes its declared follow-ups under its own source.
   */
  private policyStatements(refs: RouterRefs): iam.PolicyStatement[] {
    const statements = [
      new iam.PolicyStatement({
        sid: 'ConsumeOwnQueue',
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
        ],
        resources: [this.queue.queueArn],
      }),
      // A message that must come back but has used up its receives goes back as a new message, so
      // the redrive policy does not dead-letter a delivery that still has runs left.
      new iam.PolicyStatement({
        sid: 'RequeueToOwnQueue',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
      }),
      new iam.PolicyStatement({
        sid: 'SendPoisonToOwnDeadLetterQueue',
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
      }),
      // IAM cannot limit an item's sort key (dynamodb:LeadingKeys covers only the partition key, which is
      // the eventId chosen by publishers), so the worker may write any item of the deliveries table; the
      // worker code only writes items whose `rpc` is its own.
      new iam.PolicyStatement({
        sid: 'RecordDeliveries',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [refs.tableArn],
      }),
    ];
    if (this.rpc.publishes.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'PublishDeclaredEvents',
          actions: ['events:PutEvents'],
          resources: [refs.bus.eventBusArn],
          // Only its declared events, and only under its own source (publisherSource, as the worker
          // stamps it), so an RPC cannot pass its events off as another publisher's.
          conditions: {
            StringEquals: {
              'events:detail-type': [...this.rpc.publishes],
              'events:source': this.rpc.source,
            },
          },
        }),
      );
    }
    return statements;
  }
}

/** Every problem with the RPC's settings, each naming the field, the value and the fix. */
export function validateRpcWorkerProps(props: RpcWorkerProps): string[] {
  const { rpc } = props;
  const s = rpc.settings;
  const problems: string[] = [];
  // The ranges of the one table of AWS limits (common/aws-limits.ts).
  checkRange(
    problems,
    'settings.timeoutSeconds',
    s.timeoutSeconds,
    LAMBDA.timeoutSeconds.min,
    LAMBDA.timeoutSeconds.max,
    ' s',
  );
  checkRange(problems, 'settings.memoryMb', s.memoryMb, LAMBDA.memoryMb.min, LAMBDA.memoryMb.max, ' MB');
  checkRange(problems, 'settings.batchSize', s.batchSize, LAMBDA.batchSize.min, LAMBDA.batchSize.max, '');
  checkRange(
    problems,
    'settings.batchingWindowSeconds',
    s.batchingWindowSeconds,
    LAMBDA.batchingWindowSeconds.min,
    LAMBDA.batchingWindowSeconds.max,
    ' s',
  );
  checkRange(
    problems,
    'settings.maxConcurrency',
    s.maxConcurrency,
    LAMBDA.maxConcurrency.min,
    LAMBDA.maxConcurrency.max,
    '',
  );
  checkRange(
    problems,
    'settings.maxReceiveCount',
    s.maxReceiveCount,
    SQS.maxReceiveCount.min,
    SQS.maxReceiveCount.max,
    '',
  );
  checkRange(
    problems,
    'settings.queueRetentionSeconds',
    s.queueRetentionSeconds,
    SQS.retentionSeconds.min,
    SQS.retentionSeconds.max,
    ' s',
  );
  checkRange(
    problems,
    'settings.dlqRetentionSeconds',
    s.dlqRetentionSeconds,
    SQS.retentionSeconds.min,
    SQS.retentionSeconds.max,
    ' s',
  );
  const a = rpc.alarms;
  checkRange(
    problems,
    'alarms.backlogAgeSeconds',
    a.backlogAgeSeconds,
    CLOUDWATCH.messageAgeSeconds.min,
    CLOUDWATCH.messageAgeSeconds.max,
    ' s',
  );
  checkRange(
    problems,
    'alarms.errorRatePercent',
    a.errorRatePercent,
    CLOUDWATCH.errorRatePercent.min,
    CLOUDWATCH.errorRatePercent.max,
    '%',
  );
  checkRange(
    problems,
    'alarms.minInvocations',
    a.minInvocations,
    CLOUDWATCH.minInvocations.min,
    CLOUDWATCH.minInvocations.max,
    '',
  );
  if (s.batchSize > LAMBDA.batchSizeWithoutWindow && s.batchingWindowSeconds < 1) {
    problems.push(
      `settings.batchSize is ${s.batchSize} with no batching window; Lambda requires a batching window of at least 1 s for batches over 10. Set batchingWindow, or a batch size of 10 or less.`,
    );
  }
  if (rpc.visibilityTimeoutSeconds < LAMBDA.visibilityPerTimeout * s.timeoutSeconds) {
    problems.push(
      `visibilityTimeoutSeconds is ${rpc.visibilityTimeoutSeconds} s, below 6 x the function timeout (${6 * s.timeoutSeconds} s): a slow batch would be delivered twice. Plan the RPC with visibilityTimeoutFor().`,
    );
  }
  if (rpc.visibilityTimeoutSeconds > MAX_VISIBILITY_TIMEOUT_SECONDS) {
    problems.push(
      `visibilityTimeoutSeconds is ${rpc.visibilityTimeoutSeconds} s, over SQS's maximum of ${MAX_VISIBILITY_TIMEOUT_SECONDS} s (12 h).`,
    );
  }
  if (rpc.runner.kind === 'remote' && rpc.runner.timeoutMs >= s.timeoutSeconds * 1000) {
    problems.push(
      `runner.timeoutMs is ${rpc.runner.timeoutMs} ms, not below the function timeout (${s.timeoutSeconds * 1000} ms): the worker could not record a timed-out call. Plan it with remoteTimeoutMsFor().`,
    );
  }
  return problems;
}
