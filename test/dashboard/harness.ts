/**
 * Test harness for the dashboard: the real local runtime (in memory, port 0) over a tiny cloud
 * assembly written from a router spec (each RPC's queue and DLQ, the deliveries table; no functions,
 * so nothing consumes messages behind the test's back), and a front server that serves the dashboard
 * and forwards every other request (the AWS `POST /` calls) to the runtime, as the runtime will.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryRecord } from '../../common/contracts.ts';
import { DEFAULT_RPC_SETTINGS, type RouterSpec, type RpcSpec } from '../../lib/config/types.ts';
import type { Clock } from '../../lib/local/clock.ts';
import { createDashboard, type DashboardHandler } from '../../lib/local/dashboard/index.ts';
import { LocalRuntime } from '../../lib/local/runtime/runtime.ts';
import { names } from '../../lib/naming.ts';
import { deliveriesTableResource } from '../support/deliveries-table.ts';

const at = { file: '/virtual/event-router.yaml', line: 1, col: 1 };

function rpc(id: string, extra: Partial<RpcSpec> = {}): RpcSpec {
  const [service = '', method = ''] = id.split('/');
  return {
    id,
    service,
    method,
    target: { kind: 'handler', handler: `functions/rpcs/${id}.ts` },
    settings: DEFAULT_RPC_SETTINGS,
    publishes: [],
    intendedLoop: false,
    location: at,
    ...extra,
  };
}

/** A small router: two events, three RPCs, one filtered subscription, and text that must be escaped. */
export const SPEC: RouterSpec = {
  file: at.file,
  rootDir: '/virtual',
  app: {
    name: 'shop',
    stage: 'test',
    archiveRetentionDays: 30,
    dedupRetentionSeconds: 86_400,
    publishApi: { auth: { type: 'iam' }, rateLimit: 100, burstLimit: 200 },
  },
  events: [
    {
      name: 'order.placed',
      description: 'A customer placed an order <b>now</b> & paid',
      publisher: 'ShopService',
      publishers: ['ShopService'],
      schema: { type: 'object' },
      schemaVersion: 1,
      location: at,
    },
    {
      name: 'order.shipped',
      publisher: 'ShippingService',
      publishers: ['ShippingService'],
      schema: { type: 'object' },
      schemaVersion: 1,
      location: at,
    },
  ],
  services: [
    {
      name: 'BillingService',
      location: at,
      rpcs: [
        rpc('BillingService/ChargeCard', { description: 'Charges the card', publishes: ['order.shipped'] }),
      ],
    },
    {
      name: 'MailService',
      location: at,
      rpcs: [rpc('MailService/SendReceipt'), rpc('MailService/SendTracking')],
    },
  ],
  subscriptions: [
    { event: 'order.placed', rpc: 'BillingService/ChargeCard', location: at },
    {
      event: 'order.placed',
      rpc: 'MailService/SendReceipt',
      filter: { payload: { channel: ['email', '</pre><script>alert("filter")</script>'] } },
      location: at,
    },
    { event: 'order.shipped', rpc: 'MailService/SendTracking', location: at },
  ],
  publishers: [
    { name: 'ShopService', putsOnBus: true, events: ['order.placed'], location: at },
    { name: 'ShippingService', putsOnBus: true, events: ['order.shipped'], location: at },
  ],
};

/** SPEC with a real schema on order.placed, for edit and retry (orderId and email required). */
export const STRICT_SPEC: RouterSpec = {
  ...SPEC,
  events: SPEC.events.map((e) =>
    e.name === 'order.placed'
      ? {
          ...e,
          schema: {
            type: 'object',
            required: ['orderId', 'email'],
            properties: {
              orderId: { type: 'string' },
              email: { type: 'string', format: 'email' },
              total: { type: 'number', minimum: 0 },
            },
          },
        }
      : e,
  ),
};

/** Writes a cloud assembly with each RPC's queue + DLQ and the deliveries table; returns its directory. */
function writeAssembly(spec: RouterSpec, deadIndex = false): string {
  const ctx = { app: spec.app.name, stage: spec.app.stage };
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-assembly-'));
  const resources: Record<string, unknown> = {
    Deliveries: deliveriesTableResource(names.deliveriesTableName(ctx), { deadIndex }),
  };
  spec.services
    .flatMap((s) => s.rpcs)
    .forEach((r, i) => {
      resources[`Dlq${i}`] = { Type: 'AWS::SQS::Queue', Properties: { QueueName: names.dlqName(ctx, r.id) } };
      resources[`Queue${i}`] = {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: names.queueName(ctx, r.id),
          VisibilityTimeout: 180,
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [`Dlq${i}`, 'Arn'] }, maxReceiveCount: 5 },
        },
      };
    });
  writeFileSync(join(dir, 'shop-test.template.json'), JSON.stringify({ Resources: resources }));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      version: '48.0.0',
      artifacts: {
        'shop-test': {
          type: 'aws:cloudformation:stack',
          environment: 'aws://unknown-account/unknown-region',
          properties: { templateFile: 'shop-test.template.json', stackName: 'shop-test' },
        },
      },
    }),
  );
  return dir;
}

function forward(target: string, req: IncomingMessage, res: ServerResponse): void {
  const upstream = request(
    `${target}${req.url ?? '/'}`,
    // The runtime answers only requests addressed to it: forward with its own Host, as a proxy does.
    { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`forwarding failed: ${error.message}`);
  });
  req.pipe(upstream);
}

export interface DashboardHarness {
  /** The front server (dashboard + forwarded AWS APIs). */
  readonly url: string;
  readonly runtime: LocalRuntime;
  readonly sqs: SQSClient;
  readonly doc: DynamoDBDocumentClient;
  readonly dashboard: DashboardHandler;
  queueUrl(rpcId: string, which: 'queue' | 'dlq'): Promise<string>;
  depth(rpcId: string, which: 'queue' | 'dlq'): Promise<{ visible: number; inFlight: number }>;
  /** Sends a dead letter the way a worker does: the queue message body and the DLQ attributes. */
  deadLetter(
    rpcId: string,
    eventName: string,
    eventId: string,
    reason: DeadLetterReason,
    extra?: DeadLetterExtra,
  ): Promise<void>;
  enqueue(rpcId: string, eventName: string, eventId: string): Promise<void>;
  putDelivery(
    record: Partial<DeliveryRecord> & Pick<DeliveryRecord, 'eventId' | 'rpc' | 'status' | 'updatedAt'>,
  ): Promise<void>;
  getJson<T = Record<string, unknown>>(
    path: string,
    init?: RequestInit,
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** What else a test's dead letter carries. */
export interface DeadLetterExtra {
  readonly payload?: Record<string, unknown>;
  readonly failedAt?: string;
  /** Further message attributes (String), e.g. DeadLetterId. */
  readonly attributes?: Record<string, string>;
}

/** Why a dead letter failed, as `deadLetter` records it. */
export interface DeadLetterReason {
  readonly type: string;
  readonly message: string;
}

/** A remote RPC that timed out. */
export const CARRIER_TIMEOUT: DeadLetterReason = { type: 'Timeout', message: 'carrier did not answer' };
/** A handler that refused the payload. */
export const MISSING_EMAIL: DeadLetterReason = {
  type: 'ValidationError',
  message: 'payload.email is missing',
};

/** The queue message body a rule renders for `rpcId`. */
export function queueBody(
  rpcId: string,
  eventName: string,
  eventId: string,
  payload: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    rpc: rpcId,
    event: {
      version: '0',
      id: `bus-${eventId}`,
      'detail-type': eventName,
      source: 'event-router.test',
      account: '000000000000',
      time: '2026-11-25T10:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: {
        metadata: {
          eventId,
          occurredAt: '2026-11-25T10:00:00Z',
          correlationId: eventId,
          publisher: 'test',
          schemaVersion: 1,
        },
        payload,
      },
    },
  });
}

/**
 * Starts the runtime, the front server and the dashboard; `options.clock` is the time the runtime's
 * queues run on (a test clock moves only when the test moves it); `options.deadIndex`: the deliveries
 * table has the sparse index of dead deliveries, as the core stack declares it.
 */
export async function startDashboardHarness(
  spec: RouterSpec = SPEC,
  options: { readonly clock?: Clock; readonly deadIndex?: boolean } = {},
): Promise<DashboardHarness> {
  const ctx = { app: spec.app.name, stage: spec.app.stage };
  const assembly = writeAssembly(spec, options.deadIndex === true);
  const runtime = await LocalRuntime.start({
    cdkOut: assembly,
    port: 0,
    inMemory: true,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  let dashboard: DashboardHandler | undefined;
  const server: Server = createServer((req, res) => {
    const handle = async () => {
      if (dashboard && (await dashboard(req, res))) return;
      forward(runtime.url, req, res);
    };
    handle().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  dashboard = createDashboard({ endpoint: url, region: 'us-east-1', spec, operator: 'test:operator' });
  const config = {
    endpoint: runtime.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const sqs = new SQSClient(config);
  const dynamodb = new DynamoDBClient(config);
  const doc = DynamoDBDocumentClient.from(dynamodb);
  const urls = new Map<string, string>();
  const queueUrl = async (rpcId: string, which: 'queue' | 'dlq') => {
    const name = which === 'queue' ? names.queueName(ctx, rpcId) : names.dlqName(ctx, rpcId);
    const cached = urls.get(name);
    if (cached) return cached;
    const { QueueUrl = '' } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    urls.set(name, QueueUrl);
    return QueueUrl;
  };
  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  return {
    url,
    runtime,
    sqs,
    doc,
    dashboard,
    queueUrl,
    async depth(rpcId, which) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: await queueUrl(rpcId, which), AttributeNames: ['All'] }),
      );
      return {
        visible: Number(Attributes.ApproximateNumberOfMessages),
        inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
      };
    },
    async deadLetter(rpcId, eventName, eventId, reason, extra = {}) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: await queueUrl(rpcId, 'dlq'),
          MessageBody: queueBody(rpcId, eventName, eventId, extra.payload),
          MessageAttributes: {
            ErrorType: text(reason.type),
            ErrorMessage: text(reason.message),
            Rpc: text(rpcId),
            EventId: text(eventId),
            Attempts: text('5'),
            FailedAt: text(extra.failedAt ?? '2026-11-25T10:01:02.000Z'),
            ...Object.fromEntries(Object.entries(extra.attributes ?? {}).map(([k, v]) => [k, text(v)])),
          },
        }),
      );
    },
    async enqueue(rpcId, eventName, eventId) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: await queueUrl(rpcId, 'queue'),
          MessageBody: queueBody(rpcId, eventName, eventId),
        }),
      );
    },
    async putDelivery(record) {
      await doc.send(
        new PutCommand({
          TableName: names.deliveriesTableName(ctx),
          Item: { eventName: 'order.placed', attempts: 1, expiresAt: 2_000_000_000, ...record },
        }),
      );
    },
    async getJson<T>(path: string, init?: RequestInit) {
      const response = await fetch(`${url}${path}`, {
        ...init,
        headers: { accept: 'application/json', ...init?.headers },
      });
      return { status: response.status, body: (await response.json()) as T };
    },
    async close() {
      dashboard?.close();
      sqs.destroy();
      dynamodb.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await runtime.close();
      rmSync(assembly, { recursive: true, force: true });
    },
  };
}
