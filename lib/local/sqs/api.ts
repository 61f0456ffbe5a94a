/**
 * The SQS API on the JSON protocol (`X-Amz-Target: AmazonSQS.<Op>`): validates input as SQS does and
 * answers with the shapes AWS SDK v3 clients expect, including the MD5 digests they verify.
 */
import { randomUUID } from 'node:crypto';
import { sqsErrors } from '../aws-error.ts';
import { attributesSize, type MessageAttributeValue } from './md5.ts';
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
const SYSTEM_ATTRIBUTE_NAMES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
];

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
  if (!queue) throw sqsErrors.queueDoesNotExist(url);
  return queue;
}

function inRange(key: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max))
    throw sqsErrors.invalidParameterValue(
      `Value ${value} for parameter ${key} is invalid. Reason: must be between ${min} and ${max}.`,
    );
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
    const value = attributes[name];
    if (!value || typeof value.DataType !== 'string' || value.DataType.length === 0)
      throw sqsErrors.invalidParameterValue(
        `The message attribute '${name}' must contain a non-empty attribute type.`,
      );
    const base = value.DataType.split('.')[0];
    if (base !== 'String' && base !== 'Number' && base !== 'Binary')
      throw sqsErrors.invalidParameterValue(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    if (base === 'Binary' ? value.BinaryValue === undefined : value.StringValue === undefined)
      throw sqsErrors.invalidParameterValue(
        `The message attribute '${name}' with type '${base}' must use field '${base === 'Binary' ? 'Binary' : 'String'}'.`,
      );
    if (base === 'Number' && !Number.isFinite(Number(value.StringValue)))
      throw sqsErrors.invalidParameterValue(
        `Can't cast the value of message (user) attribute '${name}' to a number.`,
      );
  }
  return attributes;
}

interface SendEntry {
  readonly MessageBody?: unknown;
  readonly DelaySeconds?: unknown;
  readonly MessageAttributes?: unknown;
  readonly MessageSystemAttributes?: unknown;
}

function prepareSend(queue: Queue, entry: SendEntry) {
  const body = entry.MessageBody;
  if (typeof body !== 'string') throw sqsErrors.missingParameter('MessageBody');
  if (body.length === 0)
    throw sqsErrors.invalidParameterValue('The request must contain a non-empty message body.');
  if (INVALID_BODY_CHAR.test(body)) throw sqsErrors.invalidMessageContents();
  const attributes = validateAttributes(entry.MessageAttributes);
  const size = Buffer.byteLength(body) + (attributes ? attributesSize(attributes) : 0);
  if (size > queue.config.maximumMessageSize)
    throw sqsErrors.invalidParameterValue(
      `One or more parameters are invalid. Reason: Message must be shorter than ${queue.config.maximumMessageSize} bytes.`,
    );
  const delay = num(entry as Input, 'DelaySeconds');
  inRange('DelaySeconds', delay, 0, 900);
  const system = entry.MessageSystemAttributes as Record<string, MessageAttributeValue> | undefined;
  const traceHeader = system?.AWSTraceHeader?.StringValue;
  return { body, attributes, delaySeconds: delay, traceHeader };
}

function checkBatch(entries: unknown): Array<Input & { Id: string }> {
  if (!Array.isArray(entries) || entries.length === 0) throw sqsErrors.emptyBatch();
  if (entries.length > 10) throw sqsErrors.tooManyEntries(entries.length);
  const seen = new Set<string>();
  for (const e of entries as Input[]) {
    const id = str(e, 'Id') ?? '';
    if (!BATCH_ID.test(id)) throw sqsErrors.invalidBatchEntryId(id);
    if (seen.has(id)) throw sqsErrors.batchEntryIdsNotDistinct(id);
    seen.add(id);
  }
  return entries as Array<Input & { Id: string }>;
}

/**
 * Applies `each` to every entry of a batch: what it returns is listed under Successful, what it throws
 * under Failed with the entry's Id (one bad entry does not fail the others).
 */
function eachEntry(
  entries: Array<Input & { Id: string }>,
  each: (entry: Input & { Id: string }) => Output,
): { Successful: Output[]; Failed: Output[] } {
  const Successful: Output[] = [];
  const Failed: Output[] = [];
  for (const entry of entries) {
    try {
      Successful.push(each(entry));
    } catch (error) {
      Failed.push(batchError(entry.Id, error));
    }
  }
  return { Successful, Failed };
}

function batchError(id: string, error: unknown) {
  const code =
    error instanceof Error && 'code' in error ? String((error as { code: unknown }).code) : 'InternalError';
  return {
    Id: id,
    SenderFault: code !== 'InternalError',
    Code: code,
    Message: error instanceof Error ? error.message : String(error),
  };
}

/** Attribute values as GetQueueAttributes returns them (all strings). */
export function queueAttributes(queue: Queue): Record<string, string> {
  const c = queue.config;
  const counts = queue.counts();
  const attrs: Record<string, string> = {
    QueueArn: queue.arn,
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.notVisible),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.lastModifiedAt / 1000)),
    VisibilityTimeout: String(c.visibilityTimeout),
    MaximumMessageSize: String(c.maximumMessageSize),
    MessageRetentionPeriod: String(c.messageRetentionPeriod),
    DelaySeconds: String(c.delaySeconds),
    ReceiveMessageWaitTimeSeconds: String(c.receiveMessageWaitTimeSeconds),
    SqsManagedSseEnabled: String(c.sqsManagedSseEnabled ?? false),
  };
  if (c.redrivePolicy) attrs.RedrivePolicy = JSON.stringify(c.redrivePolicy);
  if (c.redriveAllowPolicy) attrs.RedriveAllowPolicy = c.redriveAllowPolicy;
  if (c.kmsMasterKeyId) attrs.KmsMasterKeyId = c.kmsMasterKeyId;
  return attrs;
}

const SETTABLE: Record<string, keyof QueueConfig> = {
  VisibilityTimeout: 'visibilityTimeout',
  MessageRetentionPeriod: 'messageRetentionPeriod',
  DelaySeconds: 'delaySeconds',
  ReceiveMessageWaitTimeSeconds: 'receiveMessageWaitTimeSeconds',
  MaximumMessageSize: 'maximumMessageSize',
};

/** Queue settings from CreateQueue / SetQueueAttributes attribute strings. */
export function configFromAttributes(
  name: string,
  attributes: Record<string, string>,
  base?: QueueConfig,
): QueueConfig {
  const config: Record<string, unknown> = { ...DEFAULT_QUEUE_CONFIG, ...base, name };
  for (const [key, value] of Object.entries(attributes)) {
    const field = SETTABLE[key];
    if (field) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw sqsErrors.invalidParameterValue(`Invalid value for the parameter ${key}.`);
      config[field] = n;
    } else if (key === 'RedrivePolicy') {
      if (value === '') delete config.redrivePolicy;
      else {
        const policy = JSON.parse(value) as {
          deadLetterTargetArn?: string;
          maxReceiveCount?: number | string;
        };
        if (!policy.deadLetterTargetArn || !policy.maxReceiveCount)
          throw sqsErrors.invalidParameterValue(
            'Value for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map.',
          );
        config.redrivePolicy = {
          deadLetterTargetArn: policy.deadLetterTargetArn,
          maxReceiveCount: Number(policy.maxReceiveCount),
        };
      }
    } else if (key === 'RedriveAllowPolicy') config.redriveAllowPolicy = value;
    else if (key === 'SqsManagedSseEnabled') config.sqsManagedSseEnabled = value === 'true';
    else if (key === 'KmsMasterKeyId') config.kmsMasterKeyId = value;
    else if (key !== 'Policy' && key !== 'KmsDataKeyReusePeriodSeconds')
      throw sqsErrors.invalidAttributeName(key);
  }
  return config as unknown as QueueConfig;
}

function wantedSystemAttributes(input: Input): Set<string> {
  const names = [
    ...((input.AttributeNames as string[] | undefined) ?? []),
    ...((input.MessageSystemAttributeNames as string[] | undefined) ?? []),
  ];
  return names.includes('All') ? new Set(SYSTEM_ATTRIBUTE_NAMES) : new Set(names);
}

function attributeFilter(input: Input): (name: string) => boolean {
  const wanted = (input.MessageAttributeNames as string[] | undefined) ?? [];
  if (wanted.includes('All') || wanted.includes('.*')) return () => true;
  const prefixes = wanted.filter((w) => w.endsWith('.*')).map((w) => w.slice(0, -1));
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
  if (Object.keys(attrs).length > 0) out.Attributes = attrs;
  if (m.attributes) {
    const selected: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(m.attributes)) if (want(name)) selected[name] = value;
    if (Object.keys(selected).length > 0) {
      out.MessageAttributes = selected;
      out.MD5OfMessageAttributes =
        Object.keys(selected).length === Object.keys(m.attributes).length ? m.md5OfAttributes : undefined;
    }
  }
  return out;
}

export type SqsApi = (operation: string, input: Input, signal?: AbortSignal) => Promise<Output>;

/** The SQS operations over a queue store. */
export function createSqsApi(store: QueueStore, moveTasks: MoveTasks): SqsApi {
  const ops: Record<string, (input: Input, signal?: AbortSignal) => Promise<Output> | Output> = {
    GetQueueUrl(input) {
      const name = str(input, 'QueueName');
      if (!name) throw sqsErrors.missingParameter('QueueName');
      const queue = store.get(name);
      if (!queue) throw sqsErrors.queueDoesNotExist(name);
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
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
        throw sqsErrors.invalidParameterValue(
          `Value ${name} for parameter QueueName is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.`,
        );
      const attributes = (input.Attributes as Record<string, string> | undefined) ?? {};
      const existing = store.get(name);
      if (existing) {
        const wanted = configFromAttributes(name, attributes, existing.config);
        if (JSON.stringify(wanted) !== JSON.stringify(existing.config)) throw sqsErrors.queueNameExists(name);
        return { QueueUrl: existing.url };
      }
      return { QueueUrl: store.define(configFromAttributes(name, attributes), { created: true }).url };
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
        else if (
          !['RedrivePolicy', 'RedriveAllowPolicy', 'KmsMasterKeyId', 'Policy', 'FifoQueue'].includes(name)
        )
          throw sqsErrors.invalidAttributeName(name);
      }
      return Object.keys(out).length > 0 ? { Attributes: out } : {};
    },
    SetQueueAttributes(input) {
      const queue = requireQueue(store, input);
      const attributes = (input.Attributes as Record<string, string> | undefined) ?? {};
      store.define(configFromAttributes(queue.name, attributes, queue.config));
      return {};
    },
    async SendMessage(input) {
      const queue = requireQueue(store, input);
      const prepared = prepareSend(queue, input as SendEntry);
      const { message, durable } = queue.send(prepared);
      await durable;
      const out: Output = { MessageId: message.id, MD5OfMessageBody: message.md5OfBody };
      if (message.md5OfAttributes) out.MD5OfMessageAttributes = message.md5OfAttributes;
      return out;
    },
    async SendMessageBatch(input) {
      const queue = requireQueue(store, input);
      const entries = checkBatch(input.Entries);
      const total = entries.reduce((n, e) => n + Buffer.byteLength(String(e.MessageBody ?? '')), 0);
      if (total > queue.config.maximumMessageSize)
        throw sqsErrors.batchRequestTooLong(total, queue.config.maximumMessageSize);
      const durable: Promise<void>[] = [];
      const result = eachEntry(entries, (entry) => {
        const sent = queue.send(prepareSend(queue, entry as SendEntry));
        durable.push(sent.durable);
        const ok: Output = {
          Id: entry.Id,
          MessageId: sent.message.id,
          MD5OfMessageBody: sent.message.md5OfBody,
        };
        if (sent.message.md5OfAttributes) ok.MD5OfMessageAttributes = sent.message.md5OfAttributes;
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
      inRange('WaitTimeSeconds', wait, 0, MAX_WAIT_SECONDS);
      const system = wantedSystemAttributes(input);
      const want = attributeFilter(input);
      const deadline = Date.now() + wait * 1000;
      for (;;) {
        const messages = queue.receive(max, visibility ?? queue.config.visibilityTimeout);
        if (messages.length > 0)
          return { Messages: messages.map((m) => renderMessage(queue, m, system, want)) };
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted) return {};
        await queue.waitForMessages(left, signal);
      }
    },
    DeleteMessage(input) {
      const queue = requireQueue(store, input);
      const handle = str(input, 'ReceiptHandle');
      if (!handle) throw sqsErrors.missingParameter('ReceiptHandle');
      queue.deleteByReceipt(handle);
      return {};
    },
    DeleteMessageBatch(input) {
      const queue = requireQueue(store, input);
      return eachEntry(checkBatch(input.Entries), (entry) => {
        queue.deleteByReceipt(str(entry, 'ReceiptHandle') ?? '');
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
      queue.changeVisibility(handle, seconds);
      return {};
    },
    ChangeMessageVisibilityBatch(input) {
      const queue = requireQueue(store, input);
      return eachEntry(checkBatch(input.Entries), (entry) => {
        const seconds = num(entry, 'VisibilityTimeout') ?? 0;
        inRange('VisibilityTimeout', seconds, 0, 43200);
        queue.changeVisibility(str(entry, 'ReceiptHandle') ?? '', seconds);
        return { Id: entry.Id };
      });
    },
    PurgeQueue(input) {
      requireQueue(store, input).purge();
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
      requireQueue(store, input);
      return { Tags: {} };
    },
  };
  return async (operation, input, signal) => {
    // Own properties only: `__proto__` or `constructor` are not operations.
    const op = Object.hasOwn(ops, operation) ? ops[operation] : undefined;
    if (!op) throw sqsErrors.unknownOperation(operation);
    return op(input, signal);
  };
}

/** A fresh request id for the `x-amzn-RequestId` header. */
export function requestId(): string {
  return randomUUID();
}
