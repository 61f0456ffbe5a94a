/**
 * Errors in the shapes AWS SDK v3 clients parse: a JSON body with `__type` and `message`, an HTTP
 * status and, for SQS (JSON protocol in query-compatible mode), the `x-amzn-query-error` header that
 * carries the legacy error code. A client therefore raises the same exception class it would raise
 * against AWS (`QueueDoesNotExist`, `ReceiptHandleIsInvalid`, `InvalidEventPatternException`, ...).
 */

/** An error a service operation answers with instead of a result. */
export class AwsError extends Error {
  /** Shape name, e.g. `QueueDoesNotExist`. */
  readonly code: string;
  readonly status: number;
  /** Smithy namespace of the shape, e.g. `com.amazonaws.sqs`; omitted from `__type` when undefined. */
  readonly namespace: string | undefined;
  /** `<legacy code>;<Sender|Receiver>` for the `x-amzn-query-error` header. */
  readonly queryError: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { status?: number; namespace?: string; queryCode?: string } = {},
  ) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = options.status ?? 400;
    this.namespace = options.namespace;
    const fault = this.status >= 500 ? 'Receiver' : 'Sender';
    this.queryError = options.queryCode ? `${options.queryCode};${fault}` : undefined;
  }

  /** The JSON body of the error response. */
  body(): Record<string, string> {
    return { __type: this.namespace ? `${this.namespace}#${this.code}` : this.code, message: this.message };
  }
}

const SQS_NS = 'com.amazonaws.sqs';

/** SQS errors with the legacy codes the SDK maps back to its exception classes. */
export const sqsErrors = {
  queueDoesNotExist: () =>
    new AwsError('QueueDoesNotExist', 'The specified queue does not exist.', {
      namespace: SQS_NS,
      queryCode: 'AWS.SimpleQueueService.NonExistentQueue',
    }),
  receiptHandleIsInvalid: (handle: string) =>
    new AwsError(
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
      {
        namespace: SQS_NS,
        status: 404,
        queryCode: 'ReceiptHandleIsInvalid',
      },
    ),
  messageNotInflight: () =>
    new AwsError('MessageNotInflight', 'The message referred to is not in flight.', {
      namespace: SQS_NS,
      queryCode: 'AWS.SimpleQueueService.MessageNotInflight',
    }),
  invalidParameterValue: (message: string) =>
    new AwsError('InvalidParameterValueException', message, {
      namespace: SQS_NS,
      queryCode: 'InvalidParameterValue',
    }),
  invalidMessageContents: () =>
    new AwsError(
      'InvalidMessageContents',
      'Invalid characters found in the message body. Allowed: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.',
      {
        namespace: SQS_NS,
        queryCode: 'InvalidMessageContents',
      },
    ),
  missingParameter: (name: string) =>
    new AwsError('MissingRequiredParameterException', `The request must contain the parameter ${name}.`, {
      namespace: SQS_NS,
      queryCode: 'MissingParameter',
    }),
  invalidAttributeName: (name: string) =>
    new AwsError('InvalidAttributeName', `Unknown Attribute ${name}.`, {
      namespace: SQS_NS,
      queryCode: 'InvalidAttributeName',
    }),
  emptyBatch: () =>
    new AwsError('EmptyBatchRequest', 'There should be at least one entry in the request.', {
      namespace: SQS_NS,
      queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest',
    }),
  tooManyEntries: (count: number) =>
    new AwsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${count}.`,
      {
        namespace: SQS_NS,
        queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      },
    ),
  batchEntryIdsNotDistinct: (id: string) =>
    new AwsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`, {
      namespace: SQS_NS,
      queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
    }),
  invalidBatchEntryId: () =>
    new AwsError(
      'InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      { namespace: SQS_NS, queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId' },
    ),
  batchRequestTooLong: (size: number, limit: number) =>
    new AwsError(
      'BatchRequestTooLong',
      `Batch requests cannot be longer than ${limit} bytes. You have sent ${size} bytes.`,
      {
        namespace: SQS_NS,
        queryCode: 'AWS.SimpleQueueService.BatchRequestTooLong',
      },
    ),
  queueNameExists: (attribute: string) =>
    new AwsError(
      'QueueNameExists',
      `A queue already exists with the same name and a different value for attribute ${attribute}`,
      { namespace: SQS_NS, queryCode: 'QueueAlreadyExists' },
    ),
  queueDeletedRecently: (name: string) =>
    new AwsError(
      'QueueDeletedRecently',
      `You must wait 60 seconds after deleting a queue before you can create another with the same name (${name}).`,
      { namespace: SQS_NS, queryCode: 'AWS.SimpleQueueService.QueueDeletedRecently' },
    ),
  purgeQueueInProgress: (name: string) =>
    new AwsError(
      'PurgeQueueInProgress',
      `Only one PurgeQueue operation on ${name} is allowed every 60 seconds.`,
      {
        namespace: SQS_NS,
        status: 403,
        queryCode: 'AWS.SimpleQueueService.PurgeQueueInProgress',
      },
    ),
  invalidAttributeValue: (message: string) =>
    new AwsError('InvalidAttributeValue', message, {
      namespace: SQS_NS,
      queryCode: 'InvalidAttributeValue',
    }),
  /** InvalidAttributeName with a message of its own (the usual one is `Unknown Attribute <name>.`). */
  invalidAttribute: (message: string) =>
    new AwsError('InvalidAttributeName', message, {
      namespace: SQS_NS,
      queryCode: 'InvalidAttributeName',
    }),
  resourceNotFound: (message: string) =>
    new AwsError('ResourceNotFoundException', message, {
      namespace: SQS_NS,
      status: 404,
      queryCode: 'ResourceNotFoundException',
    }),
  unsupportedOperation: (message: string) =>
    new AwsError('UnsupportedOperation', message, {
      namespace: SQS_NS,
      queryCode: 'AWS.SimpleQueueService.UnsupportedOperation',
    }),
  unknownOperation: (op: string) =>
    new AwsError('UnknownOperationException', `The local runtime does not implement AmazonSQS.${op}.`, {
      queryCode: 'InvalidAction',
    }),
} as const;

/** EventBridge errors (JSON 1.1, plain shape names). */
export const eventsErrors = {
  validation: (message: string) => new AwsError('ValidationException', message),
  invalidEventPattern: (message: string) => new AwsError('InvalidEventPatternException', message),
  resourceNotFound: (message: string) => new AwsError('ResourceNotFoundException', message),
  unknownOperation: (op: string) =>
    new AwsError('UnknownOperationException', `The local runtime does not implement AWSEvents.${op}.`),
} as const;

/** A body that is not JSON. */
export function serializationError(message: string): AwsError {
  return new AwsError('SerializationException', message);
}
