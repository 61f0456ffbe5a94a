/**
 * A tiny EventBridge endpoint for tests: speaks the JSON 1.1 protocol of `AWSEvents.PutEvents`, so the
 * real SDK client is used, records every call, and fails the entries a test chooses.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

export interface StubEntry {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly EventBusName?: string;
}

/** Decides the fate of one entry: undefined = accepted, else the ErrorCode to return. */
export type EntryFate = (entry: StubEntry, call: number) => string | undefined;

export interface EventBridgeStub {
  readonly endpoint: string;
  /** Entries of each PutEvents call, in order. */
  readonly calls: StubEntry[][];
  /** Entries that were accepted. */
  readonly accepted: StubEntry[];
  fate: EntryFate;
  /** An SDK client pointed at the stub (no SDK-level retries, so each call is visible). */
  client(): EventBridgeClient;
  /** Forgets the recorded calls and accepts every entry again (for a `beforeEach`). */
  reset(): void;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

/** Starts the stub on 127.0.0.1 (a free port). */
export async function startEventBridgeStub(): Promise<EventBridgeStub> {
  let counter = 0;
  const stub = {
    calls: [] as StubEntry[][],
    accepted: [] as StubEntry[],
    fate: (() => undefined) as EntryFate,
  };
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    if (request.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
      reply(response, 400, { __type: 'UnknownOperationException', message: 'Only PutEvents is stubbed.' });
      return;
    }
    const { Entries = [] } = JSON.parse(body) as { Entries?: StubEntry[] };
    const call = stub.calls.push(Entries) - 1;
    let failed = 0;
    const results = Entries.map((entry) => {
      const code = stub.fate(entry, call);
      if (code) {
        failed++;
        return { ErrorCode: code, ErrorMessage: `Stubbed failure ${code}` };
      }
      stub.accepted.push(entry);
      return { EventId: `stub-${++counter}` };
    });
    reply(response, 200, { FailedEntryCount: failed, Entries: results });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return Object.assign(stub, {
    endpoint,
    reset() {
      stub.calls.length = 0;
      stub.accepted.length = 0;
      stub.fate = () => undefined;
    },
    client: () =>
      new EventBridgeClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  });
}
