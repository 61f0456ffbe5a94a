/**
 * `event-router dlq list | peek <rpc> | redrive <rpc>`: the dead-letter queues of the router's RPCs,
 * through real SQS clients, so it works against the local runtime (AWS_ENDPOINT_URL or --endpoint)
 * and against AWS alike. Queue names come from event-router.yaml and the naming convention.
 */

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { RouterSpec } from '../../config/types.ts';
import { names } from '../../naming.ts';
import { loadRouterSpecOrReport, parseCommandArgs } from '../args.ts';
import { explainAwsError } from '../aws-errors.ts';
import { clientSettings } from '../client-settings.ts';
import { escapeTerminal } from '../escape-terminal.ts';

export const summary = 'List, inspect and redrive the dead-letter queues of the RPCs';
export const usage = `event-router dlq <list | peek <rpc> | redrive <rpc>> [options]

  list                 every RPC with the depth of its queue and its DLQ
  peek <rpc>           shows up to --max messages of the RPC's DLQ (they stay in the DLQ)
  redrive <rpc>        moves the DLQ's messages back to the RPC's queue (a message move task)
    --filter <text>    only messages whose body or attributes contain <text> (moved one by one)
  --max <n>            peek/redrive --filter: at most n messages (default 10 / all)
  --endpoint <url>     AWS endpoint, e.g. http://127.0.0.1:4010 (default: AWS_ENDPOINT_URL or AWS)
  --file <path>        the router file (default: event-router.yaml)

<rpc> is Service/Method, e.g. NotificationService/NotifyCardholder.`;

interface Target {
  readonly rpc: string;
  readonly queueName: string;
  readonly dlqName: string;
}

function targets(spec: RouterSpec): Target[] {
  const ctx = { app: spec.app.name, stage: spec.app.stage };
  return spec.services.flatMap((s) =>
    s.rpcs.map((r) => ({
      rpc: r.id,
      queueName: names.queueName(ctx, r.id),
      dlqName: names.dlqName(ctx, r.id),
    })),
  );
}

async function queueInfo(
  sqs: SQSClient,
  name: string,
): Promise<{ url: string; arn: string; visible: number; inFlight: number }> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  const url = QueueUrl as string;
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    url,
    arn: Attributes.QueueArn ?? '',
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** One dead letter as `dlq peek` prints it: id, event, when it was sent, and its reason attributes. */
export function describeDeadLetter(m: Message): string {
  let what = '';
  try {
    const body = JSON.parse(m.Body ?? '') as { event?: Record<string, unknown> } & Record<string, unknown>;
    const event = (body.event ?? body) as {
      'detail-type'?: string;
      detail?: { metadata?: { eventId?: string } };
    };
    what = `${event['detail-type'] ?? '?'} ${event.detail?.metadata?.eventId ?? ''}`;
  } catch {
    what = (m.Body ?? '').slice(0, 80);
  }
  const attrs = Object.entries(m.MessageAttributes ?? {})
    .map(([k, v]) => `    ${escapeTerminal(k)}: ${escapeTerminal(v.StringValue ?? '(binary)')}`)
    .join('\n');
  const sent = m.Attributes?.SentTimestamp ? new Date(Number(m.Attributes.SentTimestamp)).toISOString() : '?';
  const count = m.Attributes?.ApproximateReceiveCount ?? '?';
  return `${escapeTerminal(m.MessageId ?? '')}  ${escapeTerminal(what)}\n    sent ${sent}, receive count ${count} (this peek included)${attrs ? `\n${attrs}` : ''}`;
}

/** Receives up to `max` messages, hiding them for `seconds`. */
async function receive(sqs: SQSClient, url: string, max: number, seconds: number): Promise<Message[]> {
  const out: Message[] = [];
  while (out.length < max) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, max - out.length),
        VisibilityTimeout: seconds,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) break;
    out.push(...Messages);
  }
  return out;
}

async function release(sqs: SQSClient, url: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((m, j) => ({ Id: `m${j}`, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      filter: { type: 'string' },
      max: { type: 'string' },
      endpoint: { type: 'string' },
      file: { type: 'string' },
    },
    usage,
  );
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const [action, rpcId] = positionals;
  if (!action || !['list', 'peek', 'redrive'].includes(action) || (action !== 'list' && !rpcId)) {
    console.error(`Usage: ${usage}`);
    return 2;
  }
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    console.error(`--max must be a positive whole number, got "${values.max}".`);
    return 2;
  }
  const spec = loadRouterSpecOrReport(values.file);
  if (!spec) return 1;
  const all = targets(spec);
  const sqs = new SQSClient(clientSettings(values.endpoint));
  try {
    if (action === 'list') {
      // Every queue is read before anything is printed: a failure prints its reason, not half a table.
      const rows: string[] = [];
      for (const t of all) {
        const [q, d] = await Promise.all([queueInfo(sqs, t.queueName), queueInfo(sqs, t.dlqName)]);
        rows.push(
          `${t.rpc.padEnd(48)} ${String(q.visible).padStart(7)} ${String(q.inFlight).padStart(9)} ${String(d.visible + d.inFlight).padStart(6)}`,
        );
      }
      console.log(
        `${'RPC'.padEnd(48)} ${'queue'.padStart(7)} ${'in flight'.padStart(9)} ${'DLQ'.padStart(6)}`,
      );
      for (const row of rows) console.log(row);
      return 0;
    }
    const target = all.find((t) => t.rpc === rpcId);
    if (!target) {
      console.error(`No RPC "${rpcId}" in ${spec.file}. Known: ${all.map((t) => t.rpc).join(', ')}.`);
      return 1;
    }
    const dlq = await queueInfo(sqs, target.dlqName);
    if (action === 'peek') {
      const messages = await receive(sqs, dlq.url, max ?? 10, 30);
      await release(sqs, dlq.url, messages);
      if (messages.length === 0) console.log(`The DLQ of ${target.rpc} (${target.dlqName}) is empty.`);
      for (const m of messages) console.log(describeDeadLetter(m));
      return 0;
    }
    const queue = await queueInfo(sqs, target.queueName);
    if (values.filter === undefined) {
      const { TaskHandle } = await sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: queue.arn }),
      );
      console.log(`Redriving ${dlq.visible} message(s) from ${target.dlqName} to ${target.queueName} ...`);
      for (;;) {
        const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn }));
        const task = Results.find((r) => r.TaskHandle === TaskHandle || r.Status !== 'RUNNING') ?? Results[0];
        if (task && task.Status !== 'RUNNING') {
          console.log(
            `${task.Status}: ${task.ApproximateNumberOfMessagesMoved ?? 0} moved${task.FailureReason ? ` (${task.FailureReason})` : ''}.`,
          );
          return task.Status === 'COMPLETED' ? 0 : 1;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    // With a filter: move matching messages one by one; the others go back to the DLQ.
    const filter = values.filter;
    const messages = await receive(sqs, dlq.url, max ?? Number.MAX_SAFE_INTEGER, 120);
    const keep: Message[] = [];
    let moved = 0;
    for (const m of messages) {
      const text = `${m.Body ?? ''} ${JSON.stringify(m.MessageAttributes ?? {})}`;
      if (!text.includes(filter)) {
        keep.push(m);
        continue;
      }
      // Keep the attributes, as a message move task does: the worker knows a redrive by its DeadLetterId.
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}),
        }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: m.ReceiptHandle }));
      moved++;
    }
    await release(sqs, dlq.url, keep);
    console.log(
      `Moved ${moved} of ${messages.length} message(s) matching "${filter}" from ${target.dlqName} to ${target.queueName}.`,
    );
    return 0;
  } catch (error) {
    const e = error as Error;
    console.error(
      explainAwsError(error, values.endpoint) ??
        (e.name === 'QueueDoesNotExist'
          ? `A queue of the router does not exist at ${values.endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'AWS'}: ${e.message} Is the router deployed, or \`event-router dev\` running?`
          : `dlq ${action} failed: ${e.name}: ${e.message}`),
    );
    return 1;
  } finally {
    sqs.destroy();
  }
}
