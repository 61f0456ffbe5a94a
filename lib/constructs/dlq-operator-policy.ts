/**
 * The ops rights, as customer-managed IAM policies named by the naming convention:
 * - per service stack, the operator policy (`event-router dlq`, `failures`, the dashboard's actions on
 *   that stack's DLQs) and the read-only viewer policy (`dlq list|peek`, `failures` without redrive,
 *   `audit`);
 * - once per router (core stack), the ops records policy: the audit trail and the edit notes on delivery
 *   records in the shared deliveries table, which every operator attaches beside a service's policy.
 * test/cdk/ops-policies.test.ts runs each ops command against the local runtime, records the AWS actions
 * it calls, and checks that these policies grant exactly those.
 */
import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DEAD_INDEX } from '../../common/contracts.ts';
import { REPLAY_PARTITION } from '../../common/replays.ts';
import { AUDIT_PARTITION, EDIT_NOTE_ATTRIBUTES } from '../ops/audit.ts';
import { MANAGED_POLICY_MAX_CHARS, MAX_RPCS_PER_SERVICE_STACK } from '../plan/estimate.ts';
import { acknowledge } from './nag.ts';
import type { RouterRefs } from './router-refs.ts';
import type { RpcWorker } from './rpc-worker.ts';

/** Placeholders at least as long as any partition, region and account name (for measuring only). */
export const LONGEST = {
  partition: 'aws-us-gov',
  region: 'ap-southeast-5',
  account: '123456789012',
} as const;

export interface DlqOperatorPolicyProps {
  /** Physical name of the policy (`names.dlqOperatorPolicyName`). */
  readonly managedPolicyName: string;
  /** What the description names, e.g. `Ledger` or `Ledger (part 2)`. */
  readonly serviceLabel: string;
  /** The workers of the stack: their queues and DLQs are the only queues the policy names. */
  readonly workers: readonly RpcWorker[];
  /** The deliveries table (status lookups), found by name. */
  readonly refs: Pick<RouterRefs, 'tableArn' | 'tableName'>;
  /** Physical name of the read-only viewer policy (`names.dlqViewerPolicyName`). */
  readonly viewerPolicyName: string;
}

/** The ARNs one operator policy names. */
export interface OperatorArns {
  /** The stack's dead-letter queues. */
  readonly deadLetterQueues: readonly string[];
  /** The stack's RPC queues (the DLQs' redrive destinations). */
  readonly queues: readonly string[];
  /** The deliveries table. */
  readonly table: string;
}

/**
 * The statements of an operator policy over these ARNs: one per set of resources, so that each queue ARN
 * is written once per set and the document stays small (IAM limits a managed policy to 6,144
 * characters). Used with the stack's tokens to declare the policy and with literal ARNs to measure it.
 */
export function operatorStatements(arns: OperatorArns): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'OperateDeadLetterQueues',
      actions: [
        // dlq list / peek: find the DLQ, read its depth and ARN, receive messages without deleting them,
        // and make peeked messages visible again at once.
        'sqs:GetQueueUrl',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        // dlq redrive: a message move task is authorized against its source queue for
        // StartMessageMoveTask (and ListMessageMoveTasks / CancelMessageMoveTask) together with
        // ReceiveMessage, DeleteMessage and GetQueueAttributes, and against its destination queue for
        // SendMessage. DeleteMessage is granted here, on the DLQs only, because the move task needs it.
        'sqs:StartMessageMoveTask',
        'sqs:ListMessageMoveTasks',
        'sqs:CancelMessageMoveTask',
        'sqs:DeleteMessage',
        // dlq purge.
        'sqs:PurgeQueue',
      ],
      resources: [...arns.deadLetterQueues],
    }),
    new iam.PolicyStatement({
      sid: 'RedriveIntoRpcQueues',
      actions: [
        // The move task's destination: each RPC's own queue. No SendMessage on any DLQ.
        'sqs:SendMessage',
        // Queue depths, and the queue's ARN (the redrive destination).
        'sqs:GetQueueUrl',
        'sqs:GetQueueAttributes',
      ],
      resources: [...arns.queues],
    }),
    // Status lookups: the delivery records of one event (partition key eventId). IAM cannot narrow a
    // Query to this service's records (the sort key is the RPC id), so it reads the event's records of
    // every RPC; it cannot Scan, read items by key or write.
    new iam.PolicyStatement({
      sid: 'LookUpDeliveries',
      actions: ['dynamodb:Query'],
      // The index of dead deliveries (failure groups) is granted by the ops records policy, which every
      // operator attaches beside this one: its ARN would not fit this policy's size budget.
      resources: [arns.table],
    }),
    // ListQueues has no resource to scope it to: it acts on the account's queues in the region, so IAM
    // only accepts "*" for it. It lists queue URLs and reads nothing inside a queue.
    new iam.PolicyStatement({
      sid: 'ListQueues',
      actions: ['sqs:ListQueues'],
      resources: ['*'],
    }),
  ];
  // A stack without RPCs has no queue to name (IAM refuses a statement without a resource).
  return statements.filter((statement) => statement.resources.length > 0);
}

/**
 * The statements of the read-only viewer policy: depths, peeks and failure groups (a read receives
 * messages and makes them visible again: SQS has no other way to read a queue), the status of move
 * tasks, delivery lookups. No send, delete, purge or move.
 */
export function viewerStatements(arns: OperatorArns): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'ReadDeadLetterQueues',
      actions: [
        'sqs:GetQueueUrl',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:ListMessageMoveTasks',
      ],
      resources: [...arns.deadLetterQueues],
    }),
    new iam.PolicyStatement({
      sid: 'ReadRpcQueues',
      actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
      resources: [...arns.queues],
    }),
    new iam.PolicyStatement({
      sid: 'LookUpDeliveries',
      actions: ['dynamodb:Query'],
      // The table (a delivery's records, the audit) and its sparse index of dead deliveries (failure groups)
      resources: [arns.table, `${arns.table}/index/${DEAD_INDEX.name}`],
    }),
    new iam.PolicyStatement({ sid: 'ListQueues', actions: ['sqs:ListQueues'], resources: ['*'] }),
  ];
  return statements.filter((statement) => statement.resources.length > 0);
}

/**
 * The statements of the ops records policy: write audit entries (PutItem only under the audit partition
 * key), read them (Query; the audit is one partition), and note an edit on a delivery record (UpdateItem
 * of `lastEdit` only: the record's state cannot be changed by an operator).
 */
export function opsRecordsStatements(tableArn: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'WriteAuditTrail',
      actions: ['dynamodb:PutItem'],
      resources: [tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [AUDIT_PARTITION] } },
    }),
    new iam.PolicyStatement({
      sid: 'NoteEditsOnDeliveries',
      actions: ['dynamodb:UpdateItem'],
      resources: [tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...EDIT_NOTE_ATTRIBUTES] } },
    }),
    new iam.PolicyStatement({
      sid: 'ReadAuditTrailAndDeadDeliveries',
      actions: ['dynamodb:Query'],
      resources: [tableArn, `${tableArn}/index/${DEAD_INDEX.name}`],
    }),
  ];
}

/** What a replay acts on (`event-router replay`). */
export interface ReplayArns {
  /** The bus archive. */
  readonly archive: string;
  /** The router's replays: `arn:...:replay/<app>-<stage>-*` (replay names start with that prefix). */
  readonly replays: string;
  readonly table: string;
}

/**
 * The statements of a replay: DescribeArchive (the archive's ARN and bus) and StartReplay on the archive
 * (StartReplay takes no role, so no iam:PassRole; the rules named in FilterArns deliver with their own
 * targets' permissions, so they need no grant); DescribeReplay and CancelReplay on the router's replays;
 * the replay's ops record (PutItem and GetItem only under its partition key). Waiting for the workers
 * reads queue depths, which the service's operator policy grants.
 */
export function replayStatements(arns: ReplayArns): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'ReplayFromArchive',
      actions: ['events:DescribeArchive', 'events:StartReplay'],
      resources: [arns.archive],
    }),
    new iam.PolicyStatement({
      sid: 'FollowReplays',
      actions: ['events:DescribeReplay', 'events:CancelReplay'],
      resources: [arns.replays],
    }),
    new iam.PolicyStatement({
      sid: 'RecordReplays',
      actions: ['dynamodb:PutItem', 'dynamodb:GetItem'],
      resources: [arns.table],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [REPLAY_PARTITION] } },
    }),
  ];
}

/** The router's ops records policy (core stack), named `<prefix>-ops-records`: audit, edit notes and replays. */
export class OpsRecordsPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;
  constructor(
    scope: Construct,
    id: string,
    props: {
      readonly managedPolicyName: string;
      readonly tableArn: string;
      /** The bus archive's ARN. */
      readonly archiveArn: string;
      /** What every replay name of the router starts with (`replayNamePrefix`). */
      readonly replayNamePrefix: string;
    },
  ) {
    super(scope, id);
    const stack = Stack.of(this);
    const replays = Arn.format(
      { service: 'events', resource: 'replay', resourceName: `${props.replayNamePrefix}*` },
      stack,
    );
    // The ARN as cdk-nag prints it (tokens as <AWS::...>).
    const shown = (value: string, token: string) => (Token.isUnresolved(value) ? `<AWS::${token}>` : value);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: props.managedPolicyName,
      description:
        'Lets ops record what they do (event-router audit trail), note edits on delivery records and replay the bus archive; attach it beside a service dlq-operator policy.',
      statements: [
        ...opsRecordsStatements(props.tableArn),
        ...replayStatements({ archive: props.archiveArn, replays, table: props.tableArn }),
      ],
    });
    acknowledge(
      this.policy,
      `AwsSolutions-IAM5[Resource::arn:${shown(stack.partition, 'Partition')}:events:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:replay/${props.replayNamePrefix}*]`,
      "Replays are created at run time under names the tool chooses: the policy names the router's replays by their name prefix (<app>-<stage>-), which every replay name of `event-router replay` starts with.",
    );
  }
}

/**
 * Size of the policy document over these ARNs as IAM counts it (white space excluded): what a deploy
 * would be refused for when it passes {@link MANAGED_POLICY_MAX_CHARS}.
 */
export function operatorPolicySize(arns: OperatorArns): number {
  const document = new iam.PolicyDocument({ statements: operatorStatements(arns) });
  return JSON.stringify(document.toJSON()).length;
}

/**
 * One customer-managed policy per service stack, named by the convention so ops find it without outputs.
 *
 * Grants, on this stack's DLQs only: GetQueueUrl, GetQueueAttributes, ReceiveMessage,
 * ChangeMessageVisibility, StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask and
 * DeleteMessage (which the move task needs); on this stack's RPC queues only: SendMessage (the move
 * task's destination), GetQueueUrl and GetQueueAttributes; Query on the deliveries table; ListQueues
 * (which cannot be scoped). Synthesis fails if the document would pass IAM's 6,144-character limit
 * (the planner keeps a stack at MAX_RPCS_PER_SERVICE_STACK RPCs, which always fit).
 */
export class DlqOperatorPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;
  readonly managedPolicyName: string;
  /** The read-only viewer policy over the same queues (it is smaller than the operator policy, so it fits too). */
  readonly viewerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: DlqOperatorPolicyProps) {
    super(scope, id);
    this.managedPolicyName = props.managedPolicyName;
    const stack = Stack.of(this);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: props.managedPolicyName,
      description: `Lets ops inspect and redrive the dead-letter queues of ${props.serviceLabel} (event-router dlq list, peek, redrive).`,
      statements: operatorStatements({
        deadLetterQueues: props.workers.map((worker) => worker.deadLetterQueue.queueArn),
        queues: props.workers.map((worker) => worker.queue.queueArn),
        table: props.refs.tableArn,
      }),
    });
    const arns = {
      deadLetterQueues: props.workers.map((worker) => worker.deadLetterQueue.queueArn),
      queues: props.workers.map((worker) => worker.queue.queueArn),
      table: props.refs.tableArn,
    };
    this.viewerPolicy = new iam.ManagedPolicy(this, 'ViewerPolicy', {
      managedPolicyName: props.viewerPolicyName,
      description: `Lets ops look at the dead-letter queues of ${props.serviceLabel} without changing anything (event-router dlq list, peek, failures, audit).`,
      statements: viewerStatements(arns),
    });
    for (const policy of [this.policy, this.viewerPolicy])
      acknowledge(
        policy,
        'AwsSolutions-IAM5[Resource::*]',
        'Only sqs:ListQueues has Resource "*": it has no queue resource IAM could scope it to, and it reveals queue URLs only. Every other action names the queues and DLQs of this stack or the deliveries table.',
      );

    // The real ARNs are tokens until deploy; measure with the names they will resolve to, in the stack's
    // partition, region and account when known, else in names as long as any.
    const partition = Token.isUnresolved(stack.partition) ? LONGEST.partition : stack.partition;
    const region = Token.isUnresolved(stack.region) ? LONGEST.region : stack.region;
    const account = Token.isUnresolved(stack.account) ? LONGEST.account : stack.account;
    const arnOf = (name: string) =>
      Arn.format(
        { partition, service: 'sqs', region, account, resource: name, arnFormat: ArnFormat.NO_RESOURCE_NAME },
        stack,
      );
    const size = operatorPolicySize({
      deadLetterQueues: props.workers.map((worker) => arnOf(worker.rpc.dlqName)),
      queues: props.workers.map((worker) => arnOf(worker.rpc.queueName)),
      table: `arn:${partition}:dynamodb:${region}:${account}:table/${props.refs.tableName}`,
    });
    this.node.addValidation({
      validate: () =>
        size > MANAGED_POLICY_MAX_CHARS
          ? [
              `${props.managedPolicyName} would be about ${size} characters, over IAM's limit of ${MANAGED_POLICY_MAX_CHARS} characters for a managed policy: ${props.workers.length} RPCs are too many for one stack's ops policy. Put fewer RPCs in the stack (the planner keeps at most ${MAX_RPCS_PER_SERVICE_STACK}), or shorten the app, stage, service or method names.`,
            ]
          : [],
    });
  }
}
