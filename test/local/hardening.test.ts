/**
 * The runtime answers only its own user and survives hostile input: real HTTP requests against the
 * runtime over the fixture assembly; after each refusal it still serves the SDK.
 */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ListQueuesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type Harness, startHarness } from './helpers.ts';

let h: Harness;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One raw HTTP request (node:http, so Host and Origin can be anything). */
function send(
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer | Array<Buffer>;
  } = {},
): Promise<Answer> {
  const port = h.runtime.port;
  return new Promise((resolve, reject) => {
    const chunked = Array.isArray(options.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/',
        headers: {
          host: `127.0.0.1:${port}`,
          ...(chunked || options.body === undefined
            ? {}
            : { 'content-length': String(Buffer.byteLength(options.body as string | Buffer)) }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The runtime may close the connection while a refused body is still being written.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    if (chunked) {
      const chunks = options.body as Buffer[];
      const next = (i: number): void => {
        if (i >= chunks.length || req.destroyed) {
          req.end();
          return;
        }
        if (req.write(chunks[i] as Buffer)) next(i + 1);
        else req.once('drain', () => next(i + 1));
      };
      next(0);
    } else req.end(options.body);
  });
}

const SQS_JSON = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' };

/** The runtime still answers a real SDK client. */
async function stillServes(): Promise<void> {
  const { QueueUrls = [] } = await h.sqs.send(new ListQueuesCommand({}));
  assert.ok(QueueUrls.length > 0, 'the runtime still lists its queues');
}

before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

describe('the local runtime answers only its own user', () => {
  it('refuses a Host that is not its loopback address (DNS rebinding) with 421', async () => {
    for (const host of ['evil.example', `evil.example:${h.runtime.port}`, '127.0.0.1:1', 'localhost']) {
      const answer = await send({ method: 'GET', path: '/_status', headers: { host } });
      assert.equal(answer.status, 421, host);
      assert.match(answer.body, /answers only requests for 127\.0\.0\.1:\d+, localhost:\d+ or \[::1\]:\d+/);
    }
    const aws = await send({ headers: { ...SQS_JSON, host: 'rebind.example' }, body: '{}' });
    assert.equal(aws.status, 421);
    for (const host of [
      `127.0.0.1:${h.runtime.port}`,
      `localhost:${h.runtime.port}`,
      `[::1]:${h.runtime.port}`,
    ]) {
      const answer = await send({ method: 'GET', path: '/_status', headers: { host } });
      assert.equal(answer.status, 200, host);
    }
    await stillServes();
  });

  it('refuses state-changing requests from another origin, and serves its own', async () => {
    const event = JSON.stringify({ hello: 'world' });
    const crossSite: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: `http://localhost:${h.runtime.port + 1}` },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of crossSite) {
      const answer = await send({
        path: '/api/events',
        headers: { 'content-type': 'text/plain', ...headers },
        body: event,
      });
      assert.equal(answer.status, 403, JSON.stringify(headers));
      assert.match(answer.body, /refuses state-changing requests from other sites/);
    }
    const own = await send({
      path: '/api/events',
      headers: {
        'content-type': 'application/json',
        origin: `http://127.0.0.1:${h.runtime.port}`,
        'sec-fetch-site': 'same-origin',
      },
      body: event,
    });
    assert.equal(own.status, 201);
    // A read from another site is not state-changing (and CORS keeps its answer from the page).
    const read = await send({ method: 'GET', path: '/_status', headers: { origin: 'https://evil.example' } });
    assert.equal(read.status, 200);
    await stillServes();
  });

  it('refuses AWS JSON requests with a content type a browser sends cross-site without a preflight', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const answer = await send({ headers: { ...SQS_JSON, 'content-type': type }, body: '{}' });
      assert.equal(answer.status, 415, type);
      assert.match(JSON.parse(answer.body).message, /is not an AWS JSON protocol type/);
    }
    const plain = await send({
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'text/plain' },
      body: '{}',
    });
    assert.equal(plain.status, 415);
    await stillServes();
  });

  it('no longer serves POST /_redrive (the dashboard and the CLI redrive)', async () => {
    const answer = await send({
      path: '/_redrive',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dlq: 'test-dev-svc-work-dlq' }),
    });
    assert.equal(answer.status, 404);
  });
});

describe('request bodies are limited before they are buffered', () => {
  it('refuses a declared 3 MiB SendMessage at once with the SQS error', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 'a');
    const answer = await send({
      headers: { ...SQS_JSON, 'x-amz-target': 'AmazonSQS.SendMessage' },
      body,
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.headers['x-amzn-query-error'], 'InvalidParameterValue;Sender');
    assert.match(JSON.parse(answer.body).message, /Message must be shorter than 1048576 bytes/);
    await stillServes();
  });

  it('stops reading a chunked body once it passes the limit', async () => {
    const chunk = Buffer.alloc(256 * 1024, 'a');
    const answer = await send({
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSEvents.PutEvents',
        'transfer-encoding': 'chunked',
      },
      body: Array.from({ length: 64 }, () => chunk), // 16 MiB offered
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.headers.connection, 'close');
    assert.match(
      JSON.parse(answer.body).message,
      /Total size of the entries in the request is over the limit/,
    );
    const batch = await send({
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AmazonSQS.SendMessageBatch',
        'transfer-encoding': 'chunked',
      },
      body: Array.from({ length: 64 }, () => chunk),
    });
    assert.equal(batch.status, 400);
    assert.match(JSON.parse(batch.body).__type, /BatchRequestTooLong/);
    await stillServes();
  });

  it('holds API requests to the 10 MB API Gateway payload limit', async () => {
    const answer = await send({
      path: '/api/events',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(11 * 1024 * 1024, 'a'),
    });
    assert.equal(answer.status, 413);
    assert.match(JSON.parse(answer.body).message, /Request Too Long/);
    await stillServes();
  });

  it('still takes a legal 1 MiB message whose JSON escaping doubles it', async () => {
    const queueUrl = `${h.runtime.url}/000000000000/test-dev-probe`;
    const body = '"'.repeat(1024 * 1024 - 1);
    const sent = await h.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    assert.ok(sent.MessageId);
  });
});

describe('unknown operations and malformed paths', () => {
  it('answers UnknownOperationException for names that are not operations', async () => {
    for (const target of [
      'AmazonSQS.__proto__',
      'AmazonSQS.constructor',
      'AmazonSQS.toString',
      'AmazonSQS.hasOwnProperty',
      'AWSEvents.__proto__',
      'AWSEvents.constructor',
      'AmazonSQS.NoSuchThing',
    ]) {
      const json = target.startsWith('AWSEvents')
        ? 'application/x-amz-json-1.1'
        : 'application/x-amz-json-1.0';
      const answer = await send({ headers: { 'content-type': json, 'x-amz-target': target }, body: '{}' });
      assert.equal(answer.status, 400, target);
      assert.match(JSON.parse(answer.body).__type, /UnknownOperationException/, target);
      assert.match(JSON.parse(answer.body).message, /does not implement/);
    }
    await stillServes();
  });

  it('answers 400, not 500, for a path parameter that is not valid percent-encoding', async () => {
    for (const path of ['/api/events/%ZZ', '/api/events/%E0%A4%A']) {
      const answer = await send({ method: 'GET', path });
      assert.equal(answer.status, 400, path);
      assert.match(JSON.parse(answer.body).message, /not valid percent-encoding/);
    }
    await stillServes();
  });
});
