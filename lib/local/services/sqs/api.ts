/**
 * The SQS API on the JSON protocol (`X-Amz-Target: AmazonSQS.<Op>`): validates input as SQS does and
 * answers with the shapes AWS SDK v3 clients expect, including the MD5 digests they verify.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AwsError, sqsErrors } from '../aws-error.ts';
import { attributesSize, type MessageAttributeValue, md5OfAttributes } from './md5.ts';
import type { MoveTasks } from './move-tasks.ts';
import { DEFAULT_QUEUE_CONFIG, type Message, type Queue, type QueueConfig } from './queue.ts';
import type { QueueStore } from './store.ts';

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

const SENDER_ID = 'AIDAEVENTROUTERLOCAL';
const MAX_WAIT_SECONDS = 20;
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;
// Characters SQS accepts in a body: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
const INVALID_BODY_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
function str(input: Input, key: string): string | undefined {
  const v = input[key];
  return typeof v === 'string' ? v : undefined;
}

function num(input: Input, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n))
    throw sqsErrors.invalidParameterValue(
      `Value ${String(v)} for parameter ${key} is invalid. Reason: not a number.`,
    );
  return n;
}

function requireQueue(store: QueueStore, input: Input): Queue {
  const url = str(input, 'QueueUrl');
  if (!url) throw sqsErrors.missingParameter('QueueUrl');
  const queue = store.byUrl(url);
  if (!queue) throw sqsErrors.queueDoesNotExist();
  return queue;
}

function inRange(key: string, value: number | undefined, min: number, max: number, form = 'between'): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max))
    throw sqsErrors.invalidParameterValue(
      `Value ${value} for parameter ${key} is invalid. Reason: ${
        form === 'between' ? `Must be between ${min} and ${max}` : `Must be >= ${min} and <= ${max}`
      }, if provided.`,
    );
}

/** SQS's rules for a message attribute name (SendMessage API reference, MessageAttributes). */
function attributeNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'The request must contain non-empty message attribute name.';
  if (name.length > 256)
    return `Message (user) attribute name '${name.slice(0, 32)}...' is longer than 256 characters.`;
  if (/^(aws|amazon)\./i.test(name))
    return `Message (user) attribute name '${name}' uses a reserved prefix (AWS. and Amazon. are reserved).`;
  if (name.startsWith('.') || name.endsWith('.'))
    return `Message (user) attribute name '${name}' must not start or end with a period.`;
  if (!/^[\p{L}\p{N}_.-]+$/u.test(name))
    return `Message (user) attribute name '${name}' is invalid: use only letters, digits, hyphens, underscores and periods.`;
  return undefined;
}

function validateAttributes(raw: unknown): Record<string, MessageAttributeValue> | undefined {
  if (raw === undefined || raw === null) return undefined;
  const attributes = raw as Record<string, MessageAttributeValue>;
  const names = Object.keys(attributes);
  if (names.length > 10)
    throw sqsErrors.invalidParameterValue(
      `Number of message attributes [${names.length}] exceeds the allowed maximum [10].`,
    );
  for (const name of names) {
    const problem = attributeNameProblem(name);
    if (problem) throw sqsErrors.invalidParameterValue(problem);
    const value = attributes[name];
    if (!value || typeof value.DataType !== 'string' || value.DataType.length === 0)
      throw sqsErrors.invalidParameterValue(
        `The message attribute '${name}' must contain a non-empty attribute type.`,
      );
    if (value.DataType.length > 256)
      throw sqsErrors.invalidParameterValue(
        `The type of message (user) attribute '${name}' is longer than 256 characters.`,
      );
    const base = value.DataType.split('.')[0];
    if (base !== 'String' && base !== 'Number' && base !== 'Binary')
      throw sqsErrors.invalidParameterValue(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    const field = base === 'Binary' ? value.BinaryValue : value.StringValue;
    if (field === undefined)
      throw sqsErrors.invalidParameterValue(
        `The message attribute '${name}' with type '${base}' must use field '${base === 'Binary' ? 'Binary' : 'String'}'.`,
      );
    if (field.length === 0)
      throw sqsErrors.invalidParameterValue(
        `Message (user) attribute '${name}' must contain a non-empty value of type '${base}'.`,
      );
    if (base === 'String' && INVALID_BODY_CHAR.test(field))
      throw sqsErrors.invalidParameterValue(
        `Invalid characters found in the value of message (user) attribute '${name}'. Allowed: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.`,
      );
    if (base === 'Number' && !Number.isFinite(Number(field)))
      throw sqsErrors.invalidParameterValue(
        `Can't cast the value of message (user) attribute '${name}' to a number.`,
      );
  }
  return attributes;
}

/** MessageGroupId / MessageDeduplicationId: 1..128 alphanumeric and punctuation characters. */
const GROUP_OR_DEDUP_ID = /^[\x21-\x7e]{1,128}$/;

interface SendEntry {
  readonly MessageBody?: unknown;
  readonly DelaySeconds?: unknown;
  readonly MessageAttributes?: unknown;
  readonly MessageSystemAttributes?: unknown;
  readonly MessageGroupId?: unknown;
  readonly MessageDeduplicationId?: unknown;
}

/** Bytes a message counts toward the size limits: body plus attribute names, types and values. */
function messageSize(entry: SendEntry): number {
  const body = typeof entry.MessageBody === 'string' ? Buffer.byteLength(entry.MessageBody) : 0;
  const attributes = entry.MessageAttributes as Record<string, MessageAttributeValue> | undefined;
  let size = body;
  try {
    if (attributes && typeof attributes === 'object') size += attributesSize(attributes);
  } catch {
    // malformed attributes are reported by validation
  }
  return size;
}

function prepareSend(queue: Queue, entry: SendEntry, options: { batch: boolean; traceHeader?: string }) {
  const body = entry.MessageBody;
  if (typeof body !== 'string' || body.length === 0) throw sqsErrors.missingParameter('MessageBody');
  if (INVALID_BODY_CHAR.test(body)) throw sqsErrors.invalidMessageContents();
  const attributes = validateAttributes(entry.MessageAttributes);
  const size = Buffer.byteLength(body) + (attributes ? attributesSize(attributes) : 0);
  if (size > queue.config.maximumMessageSize)
    throw sqsErrors.invalidParameterValue(
      `One or more parameters ${options.batch ? 'cannot be validated' : 'are invalid'}. Reason: Message must be shorter than ${queue.config.maximumMessageSize} bytes.`,
    );
  const delay = num(entry as Input, 'DelaySeconds');
  inRange('DelaySeconds', delay, 0, 900);
  const fifo = queue.config.fifoQueue === true;
  const groupId = entry.MessageGroupId;
  if (fifo && groupId === undefined) throw sqsErrors.missingParameter('MessageGroupId');
  if (groupId !== undefined && (typeof groupId !== 'string' || !GROUP_OR_DEDUP_ID.test(groupId)))
    throw sqsErrors.invalidParameterValue(
      `Value ${String(groupId)} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    );
  const dedupId = entry.MessageDeduplicationId;
  if (dedupId !== undefined && !fifo)
    throw sqsErrors.invalidParameterValue(
      `Value ${String(dedupId)} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.`,
    );
  if (dedupId !== undefined && (typeof dedupId !== 'string' || !GROUP_OR_DEDUP_ID.test(dedupId)))
    throw sqsErrors.invalidParameterValue(
      `Value ${String(dedupId)} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.`,
    );
  if (fifo && dedupId === undefined && !queue.config.contentBasedDeduplication)
    throw sqsErrors.invalidParameterValue(
      'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    );
  if (fifo && delay !== undefined && delay !== 0)
    throw sqsErrors.invalidParameterValue(
      `Value ${delay} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
    );
  const system = entry.MessageSystemAttributes as Record<string, MessageAttributeValue> | undefined;
  for (const name of Object.keys(system ?? {}))
    if (name !== 'AWSTraceHeader')
      throw sqsErrors.invalidParameterValue(
        `Message system attribute name '${name}' is invalid. The only supported message system attribute is AWSTraceHeader.`,
      );
  const traceHeader = system?.AWSTraceHeader?.StringValue ?? options.traceHeader;
  return {
    body,
    attributes,
    delaySeconds: fifo ? undefined : delay,
    traceHeader,
    ...(typeof groupId === 'string' ? { groupId } : {}),
    ...(fifo
      ? {
          deduplicationId:
            typeof dedupId === 'string' ? dedupId : createHash('sha256').update(body, 'utf8').digest('hex'),
        }
      : {}),
  };
}

/**
 * A FIFO batch is refused as a whole when an entry lacks its MessageGroupId or, without content-based
 * deduplication, its MessageDeduplicationId (as SQS recorded it).
 */
function checkFifoBatch(queue: Queue, entries: Input[]): void {
  if (!queue.config.fifoQueue) return;
  for (const e of entries) {
    if (e.MessageGroupId === undefined)
      throw sqsErrors.invalidParameterValue('The request must contain the parameter MessageGroupId.');
    if (e.MessageDeduplicationId === undefined && !queue.config.contentBasedDeduplication)
      throw sqsErrors.invalidParameterValue(
        'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
  }
}

function checkBatch(entries: unknown): Array<Input & { Id: string }> {
  if (!Array.isArray(entries) || entries.length === 0) throw sqsErrors.emptyBatch();
  if (entries.length > 10) throw sqsErrors.tooManyEntries(entries.length);
  const seen = new Set<string>();
  for (const e of entries as Input[]) {
    const id = str(e, 'Id') ?? '';
    if (!BATCH_ID.test(id)) throw sqsErrors.invalidBatchEntryId();
    if (seen.has(id)) throw sqsErrors.batchEntryIdsNotDistinct(id);
    seen.add(id);
  }
  return entries as Array<Input & { Id: string }>;
}

/**
 * Applies `each` to every entry of a batch: what it returns is listed under Successful, what it throws
 * under Failed with the entry's Id (one bad entry does not fail the others). An empty list is left
 * out, as SQS does.
 */
function eachEntry(
  entries: Array<Input & { Id: string }>,
  each: (entry: Input & { Id: string }) => Output,
): { Successful?: Output[]; Failed?: Output[] } {
  const Successful: Output[] = [];
  const Failed: Output[] = [];
  for (const entry of entries) {
    try {
      Successful.push(each(entry));
    } catch (error) {
      Failed.push(batchError(entry.Id, error));
    }
  }
  return {
    ...(Successful.length > 0 ? { Successful } : {}),
    ...(Failed.length > 0 ? { Failed } : {}),
  };
}

/** A Failed entry: SQS gives the legacy (query) error code here, e.g. `InvalidParameterValue`. */
function batchError(id: string, error: unknown) {
  if (error instanceof AwsError)
    return {
      Id: id,
      SenderFault: error.status < 500,
      Code: error.queryError?.split(';')[0] ?? error.code,
      Message: error.message,
    };
  return {
    Id: id,
    SenderFault: false,
    Code: 'InternalError',
    Message: error instanceof Error ? error.message : String(error),
  };
}

/** Attribute values as GetQueueAttributes returns them (all strings). */
export function queueAttributes(queue: Queue): Record<string, string> {
  const counts = queue.counts();
  return {
    QueueArn: queue.arn,
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.notVisible),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.lastModifiedAt / 1000)),
    ...settingAttributes(queue.config),
  };
}

/** The attributes that come from a queue's settings. */
function settingAttributes(c: QueueConfig): Record<string, string> {
  const attrs: Record<string, string> = {
    VisibilityTimeout: String(c.visibilityTimeout),
    MaximumMessageSize: String(c.maximumMessageSize),
    MessageRetentionPeriod: String(c.messageRetentionPeriod),
    DelaySeconds: String(c.delaySeconds),
    ReceiveMessageWaitTimeSeconds: String(c.receiveMessageWaitTimeSeconds),
    SqsManagedSseEnabled: String(c.sqsManagedSseEnabled ?? false),
  };
  if (c.redrivePolicy) attrs.RedrivePolicy = JSON.stringify(c.redrivePolicy);
  if (c.redriveAllowPolicy) attrs.RedriveAllowPolicy = c.redriveAllowPolicy;
  if (c.fifoQueue) {
    attrs.FifoQueue = 'true';
    attrs.ContentBasedDeduplication = String(c.contentBasedDeduplication ?? false);
    attrs.DeduplicationScope = c.deduplicationScope ?? 'queue';
    attrs.FifoThroughputLimit = c.fifoThroughputLimit ?? 'perQueue';
  }
  if (c.kmsMasterKeyId) {
    attrs.KmsMasterKeyId = c.kmsMasterKeyId;
    attrs.KmsDataKeyReusePeriodSeconds = String(c.kmsDataKeyReusePeriodSeconds ?? 300);
  }
  return attrs;
}

/**
 * Ranges of the numeric queue attributes (SetQueueAttributes API reference): [config field, min, max].
 */
const NUMERIC_ATTRIBUTES: Record<string, readonly [keyof QueueConfig, number, number]> = {
  VisibilityTimeout: ['visibilityTimeout', 0, 43_200],
  MessageRetentionPeriod: ['messageRetentionPeriod', 60, 1_209_600],
  DelaySeconds: ['delaySeconds', 0, 900],
  ReceiveMessageWaitTimeSeconds: ['receiveMessageWaitTimeSeconds', 0, 20],
  MaximumMessageSize: ['maximumMessageSize', 1024, 1_048_576],
  KmsDataKeyReusePeriodSeconds: ['kmsDataKeyReusePeriodSeconds', 60, 86_400],
};

/** Attribute names GetQueueAttributes accepts that a queue may not have a value for. */
const OPTIONAL_ATTRIBUTES = [
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'Policy',
];

const FIFO_ONLY_ATTRIBUTES = ['DeduplicationScope', 'FifoThroughputLimit'];
const FIFO_VALUES: Record<string, readonly string[]> = {
  ContentBasedDeduplication: ['true', 'false'],
  DeduplicationScope: ['queue', 'messageGroup'],
  FifoThroughputLimit: ['perQueue', 'perMessageGroupId'],
};

function redrivePolicy(
  value: string,
  store: QueueStore | undefined,
): { deadLetterTargetArn: string; maxReceiveCount: number } {
  const invalid = (reason: string) =>
    sqsErrors.invalidParameterValue(
      `Value ${value} for parameter RedrivePolicy is invalid. Reason: ${reason}`,
    );
  let policy: unknown;
  try {
    policy = JSON.parse(value);
  } catch {
    throw invalid('Redrive policy is not a valid JSON map.');
  }
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy))
    throw invalid('Redrive policy is not a valid JSON map.');
  const { deadLetterTargetArn: arn, maxReceiveCount: raw } = policy as Record<string, unknown>;
  if (arn === undefined || raw === undefined)
    throw invalid('Redrive policy must contain both deadLetterTargetArn and maxReceiveCount.');
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > 1000)
    throw invalid(
      `Invalid value for maxReceiveCount: ${String(raw)}, valid values are from 1 to 1000 both inclusive.`,
    );
  if (typeof arn !== 'string' || !/^arn:[^:]+:sqs:[^:]*:[^:]*:[^:]+$/.test(arn))
    throw invalid('Invalid value for deadLetterTargetArn.');
  if (store && !store.byArn(arn)) throw invalid('Dead letter target does not exist.');
  return { deadLetterTargetArn: arn, maxReceiveCount: count };
}

/**
 * Queue settings from CreateQueue / SetQueueAttributes attribute strings, validated as SQS does.
 * `store` (when given) checks that a redrive policy's dead-letter queue exists.
 */
export function configFromAttributes(
  name: string,
  attributes: Record<string, string>,
  base?: QueueConfig,
  store?: QueueStore,
): QueueConfig {
  const config: Record<string, unknown> = { ...DEFAULT_QUEUE_CONFIG, ...base, name };
  if (!base) config.sqsManagedSseEnabled = true;
  const fifo = base ? base.fifoQueue === true : isTrue(attributes.FifoQueue);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'FifoQueue') {
      // A standard queue does not know it; a FIFO queue cannot be turned into a standard one.
      if (!fifo) throw sqsErrors.invalidAttributeName(key);
      if (!isTrue(value))
        throw sqsErrors.invalidAttributeValue(
          'Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.',
        );
      config.fifoQueue = true;
    } else if (key in FIFO_VALUES) {
      if (!fifo) {
        if (FIFO_ONLY_ATTRIBUTES.includes(key))
          throw sqsErrors.invalidAttribute(`You can specify the ${key} only when FifoQueue is set to true.`);
        throw sqsErrors.invalidAttributeName(key);
      }
      const known = FIFO_VALUES[key]?.find((v) => v.toLowerCase() === value.toLowerCase());
      if (!known) throw sqsErrors.invalidAttributeValue(`Invalid value for the parameter ${key}.`);
      if (key === 'ContentBasedDeduplication') config.contentBasedDeduplication = known === 'true';
      else if (key === 'DeduplicationScope') config.deduplicationScope = known;
      else config.fifoThroughputLimit = known;
    }
  }
  const kms = attributes.KmsMasterKeyId;
  if (attributes.SqsManagedSseEnabled === 'true' && (kms ?? (base?.kmsMasterKeyId || '')) !== '')
    throw sqsErrors.invalidAttribute(
      'You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.',
    );
  for (const [key, value] of Object.entries(attributes)) {
    const numeric = NUMERIC_ATTRIBUTES[key];
    if (numeric) {
      const [field, min, max] = numeric;
      const n = Number(value);
      if (value === '' || !Number.isInteger(n) || n < min || n > max)
        throw sqsErrors.invalidAttributeValue(`Invalid value for the parameter ${key}.`);
      config[field] = n;
    } else if (key === 'RedrivePolicy') {
      if (value === '') delete config.redrivePolicy;
      else config.redrivePolicy = redrivePolicy(value, store);
    } else if (key === 'RedriveAllowPolicy') {
      if (value === '') delete config.redriveAllowPolicy;
      else config.redriveAllowPolicy = value;
    } else if (key === 'SqsManagedSseEnabled') {
      if (value !== 'true' && value !== 'false')
        throw sqsErrors.invalidAttributeValue(`Invalid value for the parameter ${key}.`);
      config.sqsManagedSseEnabled = value === 'true';
    } else if (key === 'KmsMasterKeyId') {
      if (value === '') delete config.kmsMasterKeyId;
      else {
        config.kmsMasterKeyId = value;
        config.sqsManagedSseEnabled = false;
      }
    } else if (key !== 'Policy' && key !== 'FifoQueue' && !(key in FIFO_VALUES))
      throw sqsErrors.invalidAttributeName(key);
  }
  return config as unknown as QueueConfig;
}

/** SQS reads boolean attributes without regard to case (`True` is recorded as accepted). */
function isTrue(value: string | undefined): boolean {
  return value?.toLowerCase() === 'true';
}

/** The first attribute a CreateQueue request gives a different value than the queue has. */
function differingAttribute(
  queue: Queue,
  attributes: Record<string, string>,
  wanted: QueueConfig,
): string | undefined {
  const have = settingAttributes(queue.config);
  const want = settingAttributes(wanted);
  for (const key of Object.keys(attributes)) if (have[key] !== want[key]) return key;
  return undefined;
}

/** The message system attributes a standard queue returns (AttributeNames / MessageSystemAttributeNames). */
const SYSTEM_ATTRIBUTE_NAMES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
  'MessageGroupId',
  'MessageDeduplicationId',
  'SequenceNumber',
];

function wantedSystemAttributes(input: Input): Set<string> {
  const names = [
    ...((input.AttributeNames as string[] | undefined) ?? []),
    ...((input.MessageSystemAttributeNames as string[] | undefined) ?? []),
  ];
  return names.includes('All') ? new Set(SYSTEM_ATTRIBUTE_NAMES) : new Set(names);
}

/**
 * The MessageAttributeNames filter: `All`, `*` and `.*` select every attribute, `Foo.*` every name
 * starting with `Foo.`... as SQS recorded it (`Hel.*` selects `Hello` and `Help.Me`: the prefix is
 * the text before `.*`), other entries select the attribute of that exact name.
 */
function attributeFilter(input: Input): (name: string) => boolean {
  const wanted = (input.MessageAttributeNames as string[] | undefined) ?? [];
  if (wanted.some((w) => w === 'All' || w === '*' || w === '.*')) return () => true;
  const prefixes = wanted.filter((w) => w.endsWith('.*')).map((w) => w.slice(0, -2));
  const exact = new Set(wanted);
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
}

function renderMessage(
  queue: Queue,
  m: Message,
  system: Set<string>,
  want: (name: string) => boolean,
): Output {
  const out: Output = {
    MessageId: m.id,
    ReceiptHandle: queue.receiptHandle(m),
    MD5OfBody: m.md5OfBody,
    Body: m.body,
  };
  const attrs: Record<string, string> = {};
  if (system.has('SenderId')) attrs.SenderId = SENDER_ID;
  if (system.has('SentTimestamp')) attrs.SentTimestamp = String(m.sentAt);
  if (system.has('ApproximateReceiveCount')) attrs.ApproximateReceiveCount = String(m.receiveCount);
  if (system.has('ApproximateFirstReceiveTimestamp'))
    attrs.ApproximateFirstReceiveTimestamp = String(m.firstReceiveAt);
  if (system.has('AWSTraceHeader') && m.traceHeader) attrs.AWSTraceHeader = m.traceHeader;
  if (system.has('DeadLetterQueueSourceArn') && m.deadLetterSourceArn)
    attrs.DeadLetterQueueSourceArn = m.deadLetterSourceArn;
  if (system.has('MessageGroupId') && m.groupId) attrs.MessageGroupId = m.groupId;
  if (system.has('MessageDeduplicationId') && m.deduplicationId)
    attrs.MessageDeduplicationId = m.deduplicationId;
  if (system.has('SequenceNumber') && m.sequenceNumber) attrs.SequenceNumber = m.sequenceNumber;
  if (Object.keys(attrs).length > 0) out.Attributes = attrs;
  if (m.attributes) {
    const selected: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(m.attributes)) if (want(name)) selected[name] = value;
    if (Object.keys(selected).length > 0) {
      out.MessageAttributes = selected;
      out.MD5OfMessageAttributes =
        Object.keys(selected).length === Object.keys(m.attributes).length
          ? m.md5OfAttributes
          : md5OfAttributes(selected);
    }
  }
  return out;
}

export type SqsApi = (
  operation: string,
  input: Input,
  signal?: AbortSignal,
  headers?: IncomingHttpHeaders,
) => Promise<Output>;

/** SQS operations the runtime answers with UnsupportedOperation rather than pretend to apply. */
const NOT_EMULATED = ['AddPermission', 'RemovePermission'];

/** Bytes a whole SendMessageBatch may carry (SQS: 1 MiB, whatever the queue's maximum message size). */
const MAX_BATCH_BYTES = 1_048_576;

function traceHeaderOf(headers: IncomingHttpHeaders | undefined): string | undefined {
  const value = headers?.['x-amzn-trace-id'];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function stringMap(input: Input, key: string): Record<string, string> {
  const value = input[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw sqsErrors.invalidParameterValue(`Value for parameter ${key} is invalid. Reason: not a map.`);
  return value as Record<string, string>;
}

/** Tag keys and values as SQS limits them (at most 50 tags per queue, keys 1..128, values 0..256). */
function checkTags(tags: Record<string, string>): void {
  for (const [key, value] of Object.entries(tags)) {
    if (key.length === 0 || key.length > 128)
      throw sqsErrors.invalidParameterValue(`Tag key must be 1 to 128 characters long: '${key}'.`);
    if (typeof value !== 'string' || value.length > 256)
      throw sqsErrors.invalidParameterValue(`Tag value of '${key}' must be at most 256 characters long.`);
  }
  if (Object.keys(tags).length > 50)
    throw sqsErrors.invalidParameterValue('Too many tags: a queue can have at most 50 tags.');
}

/** The SQS operations over a queue store. */
export function createSqsApi(store: QueueStore, moveTasks: MoveTasks): SqsApi {
  const ops: Record<
    string,
    (input: Input, signal?: AbortSignal, headers?: IncomingHttpHeaders) => Promise<Output> | Output
  > = {
    GetQueueUrl(input) {
      const name = str(input, 'QueueName');
      if (!name) throw sqsErrors.missingParameter('QueueName');
      const queue = store.get(name);
      if (!queue) throw sqsErrors.queueDoesNotExist();
      return { QueueUrl: queue.url };
    },
    ListQueues(input) {
      const prefix = str(input, 'QueueNamePrefix') ?? '';
      const max = num(input, 'MaxResults');
      inRange('MaxResults', max, 1, 1000);
      const names = store
        .list()
        .filter((q) => q.name.startsWith(prefix))
        .sort((a, b) => a.name.localeCompare(b.name));
      const start = Number(str(input, 'NextToken') ?? '0') || 0;
      const page = max ? names.slice(start, start + max) : names.slice(0, 1000);
      const out: Output = { QueueUrls: page.map((q) => q.url) };
      if (max && start + max < names.length) out.NextToken = String(start + max);
      return out;
    },
    CreateQueue(input) {
      const name = str(input, 'QueueName');
      if (!name) throw sqsErrors.missingParameter('QueueName');
      const attributes = stringMap(input, 'Attributes');
      const fifo = isTrue(attributes.FifoQueue);
      if (fifo || name.endsWith('.fifo')) {
        if (!fifo || !/^[A-Za-z0-9_-]{1,75}\.fifo$/.test(name))
          throw sqsErrors.invalidParameterValue(
            fifo
              ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.'
              : `Value ${name} for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.`,
          );
      } else if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
        throw sqsErrors.invalidParameterValue(
          `Value ${name} for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.`,
        );
      const tags = stringMap(input, 'tags');
      checkTags(tags);
      const existing = store.get(name);
      if (existing) {
        const wanted = configFromAttributes(name, attributes, existing.config, store);
        const differs = differingAttribute(existing, attributes, wanted);
        if (differs) throw sqsErrors.queueNameExists(differs);
        return { QueueUrl: existing.url };
      }
      if (store.deletedRecently(name)) throw sqsErrors.queueDeletedRecently(name);
      const queue = store.define(configFromAttributes(name, attributes, undefined, store), { created: true });
      if (Object.keys(tags).length > 0) store.setTags(name, tags);
      return { QueueUrl: queue.url };
    },
    DeleteQueue(input) {
      const queue = requireQueue(store, input);
      store.remove(queue);
      return {};
    },
    TagQueue(input) {
      const queue = requireQueue(store, input);
      const tags = { ...store.tags(queue.name), ...stringMap(input, 'Tags') };
      checkTags(tags);
      store.setTags(queue.name, tags);
      return {};
    },
    UntagQueue(input) {
      const queue = requireQueue(store, input);
      const keys = input.TagKeys;
      if (!Array.isArray(keys)) throw sqsErrors.missingParameter('TagKeys');
      const tags = store.tags(queue.name);
      for (const key of keys) delete tags[String(key)];
      store.setTags(queue.name, tags);
      return {};
    },
    GetQueueAttributes(input) {
      const queue = requireQueue(store, input);
      const names = (input.AttributeNames as string[] | undefined) ?? [];
      const all = queueAttributes(queue);
      if (names.includes('All')) return { Attributes: all };
      const out: Record<string, string> = {};
      for (const name of names) {
        const value = all[name];
        if (value !== undefined) out[name] = value;
        else if (!OPTIONAL_ATTRIBUTES.includes(name)) throw sqsErrors.invalidAttributeName(name);
      }
      return Object.keys(out).length > 0 ? { Attributes: out } : {};
    },
    SetQueueAttributes(input) {
      const queue = requireQueue(store, input);
      const attributes = stringMap(input, 'Attributes');
      store.define(configFromAttributes(queue.name, attributes, queue.config, store));
      return {};
    },
    async SendMessage(input, _signal, headers) {
      const queue = requireQueue(store, input);
      const prepared = prepareSend(queue, input as SendEntry, {
        batch: false,
        traceHeader: traceHeaderOf(headers),
      });
      const { message, durable } = queue.send(prepared);
      await durable;
      const out: Output = { MessageId: message.id, MD5OfMessageBody: message.md5OfBody };
      if (message.md5OfAttributes) out.MD5OfMessageAttributes = message.md5OfAttributes;
      if (message.sequenceNumber) out.SequenceNumber = message.sequenceNumber;
      return out;
    },
    async SendMessageBatch(input, _signal, headers) {
      const queue = requireQueue(store, input);
      const entries = checkBatch(input.Entries);
      const total = entries.reduce((n, e) => n + messageSize(e as SendEntry), 0);
      if (total > MAX_BATCH_BYTES) throw sqsErrors.batchRequestTooLong(total, MAX_BATCH_BYTES);
      checkFifoBatch(queue, entries);
      const traceHeader = traceHeaderOf(headers);
      const durable: Promise<void>[] = [];
      const result = eachEntry(entries, (entry) => {
        const sent = queue.send(prepareSend(queue, entry as SendEntry, { batch: true, traceHeader }));
        durable.push(sent.durable);
        const ok: Output = {
          Id: entry.Id,
          MessageId: sent.message.id,
          MD5OfMessageBody: sent.message.md5OfBody,
        };
        if (sent.message.md5OfAttributes) ok.MD5OfMessageAttributes = sent.message.md5OfAttributes;
        if (sent.message.sequenceNumber) ok.SequenceNumber = sent.message.sequenceNumber;
        return ok;
      });
      await Promise.all(durable);
      return result;
    },
    async ReceiveMessage(input, signal) {
      const queue = requireQueue(store, input);
      const max = num(input, 'MaxNumberOfMessages') ?? 1;
      inRange('MaxNumberOfMessages', max, 1, 10);
      const visibility = num(input, 'VisibilityTimeout');
      inRange('VisibilityTimeout', visibility, 0, 43200);
      const wait = num(input, 'WaitTimeSeconds') ?? queue.config.receiveMessageWaitTimeSeconds;
      inRange('WaitTimeSeconds', wait, 0, MAX_WAIT_SECONDS, 'bounds');
      const system = wantedSystemAttributes(input);
      const want = attributeFilter(input);
      const deadline = store.clock.now() + wait * 1000;
      for (;;) {
        const messages = queue.receive(max, visibility ?? queue.config.visibilityTimeout);
        if (messages.length > 0)
          return { Messages: messages.map((m) => renderMessage(queue, m, system, want)) };
        const left = deadline - store.clock.now();
        if (left <= 0 || signal?.aborted) return {};
        await queue.waitForMessages(left, signal);
      }
    },
    DeleteMessage(input) {
      const queue = requireQueue(store, input);
      const handle = str(input, 'ReceiptHandle');
      if (!handle) throw sqsErrors.missingParameter('ReceiptHandle');
      queue.deleteByReceipt(handle, { asSqs: true });
      return {};
    },
    DeleteMessageBatch(input) {
      const queue = requireQueue(store, input);
      return eachEntry(checkBatch(input.Entries), (entry) => {
        queue.deleteByReceipt(str(entry, 'ReceiptHandle') ?? '', { asSqs: true });
        return { Id: entry.Id };
      });
    },
    ChangeMessageVisibility(input) {
      const queue = requireQueue(store, input);
      const handle = str(input, 'ReceiptHandle');
      if (!handle) throw sqsErrors.missingParameter('ReceiptHandle');
      const seconds = num(input, 'VisibilityTimeout');
      if (seconds === undefined) throw sqsErrors.missingParameter('VisibilityTimeout');
      inRange('VisibilityTimeout', seconds, 0, 43200);
      queue.changeVisibility(handle, seconds, store.clock.now(), { asSqs: true });
      return {};
    },
    ChangeMessageVisibilityBatch(input) {
      const queue = requireQueue(store, input);
      return eachEntry(checkBatch(input.Entries), (entry) => {
        const seconds = num(entry, 'VisibilityTimeout') ?? 0;
        inRange('VisibilityTimeout', seconds, 0, 43200);
        queue.changeVisibility(str(entry, 'ReceiptHandle') ?? '', seconds, store.clock.now(), {
          asSqs: true,
        });
        return { Id: entry.Id };
      });
    },
    PurgeQueue(input) {
      const queue = requireQueue(store, input);
      const now = store.clock.now();
      if (now - queue.lastPurgeAt < 60_000) throw sqsErrors.purgeQueueInProgress(queue.name);
      queue.lastPurgeAt = now;
      queue.purge();
      return {};
    },
    StartMessageMoveTask(input) {
      return {
        TaskHandle: moveTasks.start(
          input as { SourceArn?: string; DestinationArn?: string; MaxNumberOfMessagesPerSecond?: number },
        ),
      };
    },
    ListMessageMoveTasks(input) {
      const tasks = moveTasks.list(str(input, 'SourceArn'), num(input, 'MaxResults') ?? 1);
      return {
        Results: tasks.map((t) => ({
          TaskHandle: t.status === 'RUNNING' ? t.taskHandle : undefined,
          Status: t.status,
          SourceArn: t.sourceArn,
          DestinationArn: t.destinationArn,
          MaxNumberOfMessagesPerSecond: t.maxNumberOfMessagesPerSecond,
          ApproximateNumberOfMessagesMoved: t.moved,
          ApproximateNumberOfMessagesToMove: t.toMove,
          FailureReason: t.failureReason,
          StartedTimestamp: t.startedTimestamp,
        })),
      };
    },
    CancelMessageMoveTask(input) {
      return { ApproximateNumberOfMessagesMoved: moveTasks.cancel(str(input, 'TaskHandle')) };
    },
    ListDeadLetterSourceQueues(input) {
      const queue = requireQueue(store, input);
      return { queueUrls: store.sourcesOf(queue).map((q) => q.url) };
    },
    ListQueueTags(input) {
      const queue = requireQueue(store, input);
      const tags = store.tags(queue.name);
      return Object.keys(tags).length > 0 ? { Tags: tags } : {};
    },
  };
  return async (operation, input, signal, headers) => {
    // Own properties only: `__proto__` or `constructor` are not operations.
    const op = Object.hasOwn(ops, operation) ? ops[operation] : undefined;
    if (!op && NOT_EMULATED.includes(operation))
      throw sqsErrors.unsupportedOperation(
        `The event-router local runtime does not emulate ${operation}: queue policies are IAM, which it does not enforce (see lib/local/README.md).`,
      );
    if (!op) throw sqsErrors.unknownOperation(operation);
    return op(input, signal, headers);
  };
}

/** A fresh request id for the `x-amzn-RequestId` header. */
export function requestId(): string {
  return randomUUID();
}
