/**
 * The AWS limits and setting ranges the project holds itself to, in one table. The loader, the
 * planner, the constructs, the publish API and the local runtime read them from here, so a limit
 * that AWS raises is changed once. Each entry names its AWS source.
 *
 * Plain data and pure functions only: Lambda code imports this module too.
 */

/** An inclusive range of a numeric setting. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const DAY = 86_400;

/** Lengths of names and texts that AWS checks at deploy time (characters). */
export const NAME_LIMITS = {
  /** AWS::Events::Rule Name: 1-64 (EventBridge API reference, PutRule `Name`). */
  ruleName: 64,
  /** AWS::Events::Rule Description: 0-512 (EventBridge API reference, PutRule `Description`). */
  ruleDescription: 512,
  /** SQS queue name: 1-80, `.fifo` included (SQS Developer Guide, "Amazon SQS queue quotas"). */
  queueName: 80,
  /** Lambda function name: 1-64 (Lambda API reference, CreateFunction `FunctionName`). */
  functionName: 64,
  /** IAM role name: 1-64 (IAM User Guide, "IAM and AWS STS quotas"). */
  roleName: 64,
  /** IAM managed policy name: 1-128 (IAM User Guide, "IAM and AWS STS quotas"). */
  managedPolicyName: 128,
  /** CloudFormation stack name: 1-128 (CloudFormation User Guide, "CloudFormation quotas"). */
  stackName: 128,
  /** DynamoDB table name: 3-255 (DynamoDB Developer Guide, "Naming rules"). */
  tableName: 255,
  /** Event bus name: 1-256 (EventBridge API reference, CreateEventBus `Name`). */
  busName: 256,
  /** CloudWatch alarm name: 1-255 (CloudWatch API reference, PutMetricAlarm `AlarmName`). */
  alarmName: 255,
  /** SNS topic name: 1-256 (SNS API reference, CreateTopic `Name`). */
  topicName: 256,
  /** PutEvents entry `Source`: 1-256 (EventBridge API reference, PutEventsRequestEntry `Source`). */
  eventSource: 256,
  /** Event archive name: 1-48 (EventBridge API reference, CreateArchive `ArchiveName`). */
  archiveName: 48,
  /**
   * The project's own limits on the names written in the YAML. Every AWS name derived from them is
   * fitted to its limit above (naming.ts); these keep what is embedded whole within AWS limits too:
   * an RPC id (service/method) goes into each rule's input template (8192) and Description (512),
   * an event name into rule patterns (2048) and IAM `events:detail-type` conditions.
   */
  serviceName: 64,
  methodName: 64,
  eventName: 128,
} as const;

/** EventBridge (EventBridge User Guide, "Amazon EventBridge quotas"; API reference). */
export const EVENTBRIDGE = {
  /** Targets per rule. */
  targetsPerRule: 5,
  /** Rules per event bus, default quota (adjustable through Service Quotas: "Rules per event bus"). */
  rulesPerBus: 300,
  /** Entries per PutEvents call. */
  putEventsEntries: 10,
  /** Size of one PutEvents entry and of the whole request, 1 MiB (raised from 256 KB in 2026). */
  entryBytes: 1 * MiB,
  /** PutRule `EventPattern`: up to 2048 characters (CloudFormation rejects longer). */
  patternChars: 2048,
  /** InputTransformer `InputTemplate`: up to 8192 characters. */
  inputTemplateChars: 8192,
  /** InputTransformer `InputPathsMap`: up to 100 entries. */
  inputPathsMapEntries: 100,
  /** Target RetryPolicy: 0-185 attempts, 60-86400 seconds of event age. */
  retryAttempts: { min: 0, max: 185 } satisfies Range,
  eventAgeSeconds: { min: 60, max: 86_400 } satisfies Range,
} as const;

/** SQS's longest visibility timeout (12 h), as a plain number: the SQS table's maximum, and what Lambda code reads. */
export const MAX_VISIBILITY_SECONDS = 43_200;

/** SQS (SQS Developer Guide, "Amazon SQS message quotas" and "queue quotas"; API reference). */
export const SQS = {
  /** Largest message (body + attributes) and largest batch, 1 MiB. */
  messageBytes: 1 * MiB,
  batchBytes: 1 * MiB,
  /** Entries per SendMessageBatch / DeleteMessageBatch / ChangeMessageVisibilityBatch. */
  batchEntries: 10,
  /** Message attributes per message. */
  messageAttributes: 10,
  /** Batch entry ids: alphanumerics, `-` and `_`, up to 80 characters. */
  batchEntryIdChars: 80,
  visibilityTimeoutSeconds: { min: 0, max: MAX_VISIBILITY_SECONDS } satisfies Range,
  retentionSeconds: { min: 60, max: 14 * DAY } satisfies Range,
  delaySeconds: { min: 0, max: 900 } satisfies Range,
  waitTimeSeconds: { min: 0, max: 20 } satisfies Range,
  /** Redrive policy `maxReceiveCount`. */
  maxReceiveCount: { min: 1, max: 1000 } satisfies Range,
  /** StartMessageMoveTask `MaxNumberOfMessagesPerSecond`. */
  moveTaskMessagesPerSecond: { min: 1, max: 500 } satisfies Range,
} as const;

/** Lambda (Lambda Developer Guide, "Lambda quotas"; "Using Lambda with Amazon SQS"). */
export const LAMBDA = {
  timeoutSeconds: { min: 1, max: 900 } satisfies Range,
  memoryMb: { min: 128, max: 10_240 } satisfies Range,
  /** SQS event source mapping batch size (standard queues). */
  batchSize: { min: 1, max: 10_000 } satisfies Range,
  /** A batch size above this needs a batching window of at least one second. */
  batchSizeWithoutWindow: 10,
  batchingWindowSeconds: { min: 0, max: 300 } satisfies Range,
  /** SQS event source mapping `ScalingConfig.MaximumConcurrency`. */
  maxConcurrency: { min: 2, max: 1000 } satisfies Range,
  /** Queue visibility timeout should be at least this many times the function timeout. */
  visibilityPerTimeout: 6,
  /** Synchronous invocation payload, request and response: 6 MB. */
  invokePayloadBytes: 6 * MiB,
} as const;

/**
 * CloudWatch alarms (CloudWatch User Guide, "Using Amazon CloudWatch alarms" and "CloudWatch service
 * quotas"; SNS ARN format from the SNS API reference, CreateTopic).
 */
export const CLOUDWATCH = {
  /** Standard-resolution period of AWS service metrics (SQS, Lambda, EventBridge publish per minute). */
  periodSeconds: 60,
  /** An alarm looks back at most one day: period x evaluation periods <= 86,400 s. */
  evaluationWindowSeconds: 86_400,
  /**
   * Backlog alarm threshold (ApproximateAgeOfOldestMessage, seconds): a minute (the metric's period)
   * up to SQS's longest retention, past which no message can be older.
   */
  messageAgeSeconds: { min: 60, max: 14 * DAY } satisfies Range,
  /** Error rate threshold, percent of invocations. */
  errorRatePercent: { min: 1, max: 100 } satisfies Range,
  /**
   * Invocations an error-rate window must hold before the rate counts (the project's own guard, so one
   * failure among a handful of invocations does not page); up to what one worker can run in a window.
   */
  minInvocations: { min: 1, max: 1_000_000 } satisfies Range,
  /** SNS topic name in an ARN: 1-256 letters, digits, `-` and `_` (standard topics: alarms cannot notify FIFO topics). */
  snsTopicArn: /^arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/,
} as const;

/** API Gateway REST APIs (API Gateway Developer Guide, "Amazon API Gateway quotas"). */
export const API_GATEWAY = {
  /** Payload size of a REST API request. */
  payloadBytes: 10 * MiB,
} as const;

/** IAM (IAM User Guide, "IAM and AWS STS quotas"), characters without whitespace. */
export const IAM = {
  /** Inline policies of one role, together. */
  rolePolicyChars: 10_240,
  /** One customer-managed policy. */
  managedPolicyChars: 6144,
} as const;

/** SQS queue `Policy` attribute: up to 20,480 bytes (SQS API reference, SetQueueAttributes `Policy`). */
export const QUEUE_POLICY_BYTES = 20 * KiB;

/** CloudFormation (CloudFormation User Guide, "CloudFormation quotas"). */
export const CLOUDFORMATION = {
  resourcesPerStack: 500,
  /** Template body uploaded through S3. */
  templateBytes: 1 * MiB,
} as const;

/**
 * What a rule adds around an event on its way to a queue, at most: the event's own fields around
 * `detail` (`version`, `id`, `account`, `time`, `region`, `resources`, names quoted) and the input
 * transformer's `{"rpc": "<Service/Method>", "event": ...}` wrapper for RPC ids of up to 512
 * characters. An entry is accepted only when it still fits the queue with this added.
 */
export const DELIVERY_OVERHEAD_BYTES = 1024;

/** Largest PutEvents entry (Detail + DetailType + Source, UTF-8) whose delivered message fits an SQS queue. */
export const DELIVERABLE_ENTRY_BYTES = Math.min(
  EVENTBRIDGE.entryBytes,
  SQS.messageBytes - DELIVERY_OVERHEAD_BYTES,
);

/** Ids the project accepts from publishers (eventId, correlationId, causationId). */
export const MAX_ID_CHARS = 256;

/**
 * Deepest JSON nesting the project accepts in an event payload. EventBridge itself has no
 * documented depth limit; this one keeps every step (validation, serialisation, pattern matching,
 * input transformers) far from the JavaScript stack limit, which a 10,000-deep document reaches.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` is an integer in `range`. */
export function inRange(value: number, range: Range): boolean {
  return Number.isInteger(value) && value >= range.min && value <= range.max;
}

/** `"between 1 and 900"`, for messages. */
export function describeRange(range: Range): string {
  return `between ${range.min} and ${range.max}`;
}

/**
 * Checks `value` against `range` and returns the problem in words, or undefined. The loader reports
 * it with a position; the constructs collect it for `addValidation`; the local runtime answers it.
 */
export function rangeProblem(label: string, value: number, range: Range): string | undefined {
  if (inRange(value, range)) return undefined;
  return `${label} must be a whole number ${describeRange(range)}, got ${value}`;
}

/** Checks a text against a character limit; returns the problem in words, or undefined. */
export function lengthProblem(label: string, text: string, max: number): string | undefined {
  if (text.length <= max) return undefined;
  return `${label} is ${text.length} characters long; AWS allows at most ${max}`;
}

/**
 * Depth of the deepest array or object in `value` (0 for a scalar), counted without recursion so
 * that a hostile document cannot overflow the stack while it is measured. Stops counting past `cap`.
 */
export function jsonDepth(value: unknown, cap = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > cap) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, here]);
  }
  return deepest;
}

/**
 * Depth of the deepest array or object in a JSON text, from its brackets, before it is parsed
 * (`JSON.parse` itself recurses). Strings are skipped. Stops counting past `cap`.
 */
export function jsonTextDepth(text: string, cap = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > cap) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}
