/**
 * CloudFormation resources of one hand-written worker for the local runtime, as tests write their own
 * cloud assemblies: its queue and DLQ (`<id>Queue`, `<id>Dlq`), and its function reading the queue
 * (`<id>Function`, `<id>Mapping`) with the environment the event-router worker reads.
 */

export interface WorkerQueues {
  readonly queueName: string;
  readonly dlqName: string;
  /** Default 60 s. */
  readonly visibilitySeconds?: number;
  /** Default 3. */
  readonly maxReceiveCount?: number;
}

/** `<id>Dlq` and `<id>Queue`, the queue redriving to the DLQ after `maxReceiveCount` receives. */
export function workerQueueResources(id: string, q: WorkerQueues): Record<string, unknown> {
  return {
    [`${id}Dlq`]: { Type: 'AWS::SQS::Queue', Properties: { QueueName: q.dlqName } },
    [`${id}Queue`]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: q.queueName,
        VisibilityTimeout: q.visibilitySeconds ?? 60,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [`${id}Dlq`, 'Arn'] },
          maxReceiveCount: q.maxReceiveCount ?? 3,
        },
      },
    },
  };
}

export interface WorkerFunction {
  readonly rpc: string;
  readonly functionName: string;
  /** The asset folder of the bundle (`index.mjs`), as bundleAsset wrote it. */
  readonly asset: string;
  /** Logical ids of the queue it reads and of its DLQ. */
  readonly queueId: string;
  readonly dlqId: string;
  /** Default 10 s. */
  readonly timeoutSeconds?: number;
  /** Default 3. */
  readonly maxReceiveCount?: number;
  /** Added to the worker's environment. */
  readonly environment?: Record<string, string>;
}

/** `<id>Function` (table `Deliveries`) and `<id>Mapping`, batches of 10 with partial batch failures. */
export function workerFunctionResources(id: string, f: WorkerFunction): Record<string, unknown> {
  return {
    [`${id}Function`]: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Code: { S3Bucket: 'assets', S3Key: `${f.asset}.zip` },
        FunctionName: f.functionName,
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        MemorySize: 256,
        Timeout: f.timeoutSeconds ?? 10,
        Role: 'arn:aws:iam::000000000000:role/worker',
        Environment: {
          Variables: {
            ER_RPC: f.rpc,
            ER_DELIVERIES_TABLE: { Ref: 'Deliveries' },
            ER_DLQ_URL: { Ref: f.dlqId },
            ER_MAX_RECEIVE_COUNT: String(f.maxReceiveCount ?? 3),
            ...f.environment,
          },
        },
      },
      Metadata: { 'aws:asset:path': f.asset, 'aws:asset:is-bundled': true },
    },
    [`${id}Mapping`]: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: { 'Fn::GetAtt': [f.queueId, 'Arn'] },
        FunctionName: { Ref: `${id}Function` },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    },
  };
}

/** Queue, DLQ, function and mapping of one worker under the logical-id prefix `id`. */
export function workerResources(
  id: string,
  w: WorkerQueues & Omit<WorkerFunction, 'queueId' | 'dlqId'>,
): Record<string, unknown> {
  return {
    ...workerQueueResources(id, w),
    ...workerFunctionResources(id, { ...w, queueId: `${id}Queue`, dlqId: `${id}Dlq` }),
  };
}
