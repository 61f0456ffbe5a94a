/**
 * What the ops commands (`dlq`, `failures`, `replay`, `audit`) share: the Operations of the router file against
 * the chosen endpoint, the operator's confirmation, the progress line of a bulk redrive and the
 * explanation of an error.
 */
import { createInterface } from 'node:readline/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { OpsError } from '../ops/errors.ts';
import { Operations, type RedriveProgress } from '../ops/operations.ts';
import { loadRouterSpecOrReport } from './args.ts';
import { explainAwsError } from './aws-errors.ts';
import { clientSettings } from './client-settings.ts';

export interface OpsContext {
  readonly ops: Operations;
  close(): void;
}

/** The Operations of `file` against `endpoint` (or AWS_ENDPOINT_URL, or AWS); undefined after printing the spec's problems. */
export function openOps(file: string | undefined, endpoint: string | undefined): OpsContext | undefined {
  const spec = loadRouterSpecOrReport(file);
  if (!spec) return undefined;
  const settings = clientSettings(endpoint);
  const sqs = new SQSClient(settings);
  const dynamodb = new DynamoDBClient(settings);
  const events = new EventBridgeClient(settings);
  const ops = new Operations({
    spec,
    sqs,
    dynamodb,
    events,
    ...((endpoint ?? process.env.AWS_ENDPOINT_URL)
      ? { endpoint: endpoint ?? process.env.AWS_ENDPOINT_URL }
      : {}),
    ...(process.env.EVENT_ROUTER_OPERATOR ? { operator: process.env.EVENT_ROUTER_OPERATOR } : {}),
  });
  return {
    ops,
    close() {
      sqs.destroy();
      dynamodb.destroy();
      events.destroy();
    },
  };
}

/** Asks a yes/no question on the terminal; false without a terminal (the command then asks for --yes). */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Asks the operator to type `expected` (a queue name before a purge). */
export async function confirmByTyping(what: string, expected: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(`${what}\nType the queue name (${expected}) to confirm: `)).trim() === expected;
  } finally {
    rl.close();
  }
}

/**
 * A progress reporter: a bar redrawn in place on a terminal, else a line at most once a second (and
 * the last one), so logs of a long run stay short.
 */
export function progressReporter(label: string): { update(p: RedriveProgress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let lastText = '';
  return {
    update(p) {
      const width = 30;
      const share = p.total === 0 ? 1 : p.moved / p.total;
      const text = `${label} ${p.moved}/${p.total} moved`;
      if (tty) {
        const filled = Math.round(share * width);
        process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
      } else if (Date.now() - last >= 1000 || p.moved === p.total) {
        if (text !== lastText) console.error(text);
        last = Date.now();
        lastText = text;
      }
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

/** One line explaining why an ops command failed. */
export function explainOpsError(error: unknown, command: string, endpoint: string | undefined): string {
  if (error instanceof OpsError) return error.message;
  const e = error as Error;
  return explainAwsError(error, endpoint) ?? `${command} failed: ${e.name}: ${e.message}`;
}

/** Parses `--rate <n>` (messages per second, 1..500 like a message move task). */
export function parseRate(value: string | undefined): number | undefined | 'invalid' {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/\/s$/, ''));
  return Number.isFinite(n) && n > 0 && n <= 500 ? n : 'invalid';
}
