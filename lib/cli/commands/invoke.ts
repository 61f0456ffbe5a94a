/**
 * `event-router invoke <Service/Method> --event <file|json>`: runs one RPC's worker once, locally, on
 * a given payload (or whole envelope), as `sam local invoke` does: starts the local runtime in memory
 * on the synthesized app, puts one message on that RPC's queue exactly as its rule would (the input
 * transformer's `{"rpc", "event"}` body), lets the worker handle it once, and prints the outcome, the
 * stored result or error, and the worker's log lines. No other RPC gets this event (follow-ups it
 * publishes are routed as usual, and not waited for).
 */

import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { SQS } from '../../../common/aws-limits.ts';
import { ENV } from '../../../common/contracts.ts';
import { formatDiagnostics, loadSpec } from '../../config/load.ts';
import { isStale, synthesize } from '../../local/assembly/synth.ts';
import type { DeliveryLog } from '../../local/lambda/poller.ts';
import { LocalRuntime } from '../../local/runtime/runtime.ts';
import { buildGraph, subscribersOf } from '../../plan/graph.ts';
import { parseCommandArgs } from '../args.ts';
import { color } from '../present/color.ts';

export const summary = "Run one RPC's worker once, locally, on a payload, and print outcome, result and logs";
export const usage = `event-router invoke <Service/Method> --event <file|json> [options]

  --event <e>      the payload as JSON, or a file holding it; a {"metadata", "payload"} object is
                   taken as the whole envelope
  --name <event>   the event to deliver (default: the one event the RPC is subscribed to)
  --file <path>    the router file (default: ./event-router.yaml)
  --cdk-out <d>    the synthesized app (default: cdk.out; synthesized first when older than its sources)
  --no-synth       use cdk.out as it is
  --timeout <s>    seconds to wait for the delivery (default: the function's timeout plus 30)

Exit code: 0 when the delivery completed, 1 when it failed or was dead-lettered, 2 on bad arguments.`;

function readEvent(value: string): unknown {
  const text = existsSync(value) ? readFileSync(value, 'utf8') : value;
  return JSON.parse(text);
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      event: { type: 'string' },
      name: { type: 'string' },
      file: { type: 'string' },
      'cdk-out': { type: 'string' },
      'no-synth': { type: 'boolean' },
      timeout: { type: 'string' },
    },
    usage,
  );
  if (!parsed) return 2;
  const { values, positionals } = parsed;
  const rpcId = positionals[0];
  if (!rpcId || positionals.length > 1 || values.event === undefined) {
    console.error(`invoke takes one RPC and --event.\n\nUsage: ${usage}`);
    return 2;
  }
  let given: unknown;
  try {
    given = readEvent(values.event);
  } catch (error) {
    console.error(`--event is neither a JSON value nor a file holding one: ${(error as Error).message}`);
    return 2;
  }
  const file = values.file ?? 'event-router.yaml';
  const loaded = loadSpec(file);
  if (!loaded.spec) {
    console.error(formatDiagnostics(loaded.diagnostics));
    return 1;
  }
  const graph = buildGraph(loaded.spec);
  const rpc = graph.rpcs.find((r) => r.id === rpcId);
  if (!rpc) {
    console.error(`No RPC "${rpcId}" in ${file}. Known: ${graph.rpcs.map((r) => r.id).join(', ')}.`);
    return 2;
  }
  const eventName = values.name ?? (rpc.subscribedTo.length === 1 ? rpc.subscribedTo[0] : undefined);
  if (!eventName || !graph.events.some((e) => e.name === eventName)) {
    console.error(
      `Say which event to deliver with --name: ${rpcId} is subscribed to ${rpc.subscribedTo.join(', ') || 'no event'}.`,
    );
    return 2;
  }
  if (!subscribersOf(graph, eventName).some((s) => s.rpc === rpcId))
    console.error(color.dim(`Note: ${rpcId} is not subscribed to ${eventName}; delivering it anyway.`));

  const cdkOut = values['cdk-out'] ?? 'cdk.out';
  if (values['no-synth'] !== true && isStale(cdkOut, file)) {
    console.error(color.dim(`Synthesizing ${file} into ${cdkOut} ...`));
    if ((await synthesize(file, cdkOut, { echo: false })) !== 0) return 1;
  }

  const event = graph.events.find((e) => e.name === eventName);
  const envelopeGiven =
    given !== null && typeof given === 'object' && 'payload' in given && 'metadata' in given;
  const eventId = randomUUID();
  const detail = envelopeGiven
    ? given
    : {
        metadata: {
          eventId,
          occurredAt: new Date().toISOString(),
          correlationId: eventId,
          publisher: event?.publisher ?? 'event-router.invoke',
          schemaVersion: event?.schemaVersion ?? 1,
        },
        payload: given,
      };
  const id = (detail as { metadata?: { eventId?: string } }).metadata?.eventId ?? eventId;

  const lines: string[] = [];
  let runtime: LocalRuntime | undefined;
  let functionName = '';
  let done: (log: DeliveryLog) => void = () => {};
  const delivered = new Promise<DeliveryLog>((resolve) => {
    done = resolve;
  });
  try {
    runtime = await LocalRuntime.start({
      cdkOut,
      port: 0,
      inMemory: true,
      // One run: a failure is reported, not retried.
      retryDelaySeconds: SQS.visibilityTimeoutSeconds.max,
      events: {
        functionOutput: (name, _stream, line) => {
          if (name === functionName) lines.push(line);
        },
        delivery: (log) => {
          if (log.eventId === id && log.rpc === rpcId) done(log);
        },
      },
    });
    const fn = runtime.model.functions.find((f) => f.environment[ENV.rpc] === rpcId);
    const queue = runtime.store.get(rpc.queueName);
    if (!fn || !queue) {
      console.error(`${cdkOut} has no worker or queue for ${rpcId}: synthesize again (event-router synth).`);
      return 1;
    }
    functionName = fn.name;
    const busEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': eventName,
      source: 'event-router.invoke',
      account: runtime.model.account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: runtime.model.region,
      resources: [],
      detail,
    };
    queue.send({ body: JSON.stringify({ rpc: rpcId, event: busEvent }) });
    const seconds = values.timeout === undefined ? fn.timeoutSeconds + 30 : Number(values.timeout);
    const timer = new Promise<undefined>((resolve) =>
      setTimeout(() => resolve(undefined), seconds * 1000).unref(),
    );
    const log = await Promise.race([delivered, timer]);
    if (!log) {
      console.error(`${rpcId} did not finish within ${seconds} s.`);
      return 1;
    }
    const dynamodb = new DynamoDBClient({
      endpoint: runtime.url,
      region: runtime.model.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const out = await dynamodb.send(
      new QueryCommand({
        TableName: graph.deliveriesTable,
        KeyConditionExpression: 'eventId = :id AND rpc = :rpc',
        ExpressionAttributeValues: { ':id': { S: id }, ':rpc': { S: rpcId } },
      }),
    );
    dynamodb.destroy();
    const item = out.Items?.[0];
    const ok = log.outcome === 'ok' || log.outcome === 'duplicate';
    console.log(`${ok ? color.green('✓') : color.red('✗')} ${rpcId} ← ${eventName} ${id}`);
    console.log(
      `  outcome   ${log.outcome}${item?.status?.S ? ` (record ${item.status.S})` : ''}, ${log.ms} ms`,
    );
    if (item?.result?.S) console.log(`  result    ${item.result.S}`);
    if (log.error) console.log(`  error     ${log.errorType ? `${log.errorType}: ` : ''}${log.error}`);
    const lastError = item?.lastError?.M;
    if (lastError && !log.error)
      console.log(`  error     ${lastError.name?.S ?? 'Error'}: ${lastError.message?.S ?? ''}`);
    console.log(`  logs      ${lines.length === 0 ? '(none)' : ''}`);
    for (const line of lines) console.log(`    ${line}`);
    return ok ? 0 : 1;
  } catch (error) {
    console.error(`invoke failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await runtime?.close();
  }
}
