/**
 * Replays SQS behaviour recorded against AWS (test/conformance/sqs-recorded.json) through a real AWS
 * SDK v3 client against the local runtime: each step's answer must match what AWS answered, error
 * code, query error code (`__type`), message, sender/receiver type and HTTP status included.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as sqs from '@aws-sdk/client-sqs';
import { type Harness, startHarness } from './helpers.ts';

interface Expect {
  readonly recorded: string;
  readonly output?: unknown;
  readonly error?: {
    readonly Code: string;
    readonly QueryErrorCode?: string;
    readonly Message: string;
    readonly Type?: string;
    readonly HTTPStatusCode?: number;
  };
  /** Compare only this part of the answer (e.g. `Messages.0`). */
  readonly path?: string;
  /** Compare the answer's Messages sorted by body, as a list of this many. */
  readonly collect?: number;
  /** System attributes the recording removed before comparing. */
  readonly dropAttributes?: readonly string[];
  /** Repeat the step until it matches (the answer changes as a background task runs). */
  readonly eventually?: boolean;
}

interface Step {
  readonly op: string;
  readonly input: Record<string, unknown>;
  readonly expect?: Expect;
  /** Keep the first received message's receipt handle as `$<save>.handle`. */
  readonly save?: string;
  readonly headers?: Record<string, string>;
}

interface Case {
  readonly name: string;
  readonly test: string;
  readonly queues: Record<string, { readonly Attributes?: Record<string, unknown> }>;
  readonly steps: readonly Step[];
}

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', 'conformance', 'sqs-recorded.json');
const corpus = JSON.parse(readFileSync(CORPUS, 'utf8')) as { cases: Case[] };

type Vars = Map<string, string>;

/** Substitutes `$name` references (longest name first) and the corpus' `$repeat` / `$json` / `$taskHandle`. */
function resolve(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    let out = value;
    for (const key of [...vars.keys()].sort((a, b) => b.length - a.length))
      out = out.split(`$${key}`).join(vars.get(key) ?? '');
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, vars));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.$repeat)) return String(o.$repeat[0]).repeat(Number(o.$repeat[1]));
    if ('$json' in o) return JSON.stringify(resolve(o.$json, vars));
    if (Array.isArray(o.$taskHandle)) {
      const [taskId, sourceArn] = resolve(o.$taskHandle, vars) as string[];
      return Buffer.from(JSON.stringify({ taskId, sourceArn })).toString('base64');
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, vars)]));
  }
  return value;
}

/** The recorder's placeholders: ids, handles, names and the replaced account id match any value. */
const PLACEHOLDER = /<[a-z-]+(?::\d+)?>|111111111111/g;

function matchesText(expected: string, actual: unknown): boolean {
  if (expected === 'timestamp') return /^\d+$/.test(String(actual));
  if (typeof actual !== 'string') return false;
  if (!PLACEHOLDER.test(expected)) return expected === actual;
  PLACEHOLDER.lastIndex = 0;
  const pattern = expected
    .split(PLACEHOLDER)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.+');
  return new RegExp(`^${pattern}$`, 's').test(actual);
}

/** Whether `actual` has exactly the recorded shape and values (placeholders match anything). */
function mismatch(expected: unknown, actual: unknown, at = '$'): string | undefined {
  if (typeof expected === 'string')
    return matchesText(expected, actual)
      ? undefined
      : `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return `${at}: expected ${expected.length} items, got ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const m = mismatch(expected[i], actual[i], `${at}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object')
      return `${at}: expected an object, got ${JSON.stringify(actual)}`;
    const a = Object.fromEntries(Object.entries(actual).filter(([, v]) => v !== undefined));
    const want = Object.keys(expected).sort();
    const got = Object.keys(a).sort();
    if (want.join() !== got.join()) return `${at}: expected keys ${want.join(', ')}, got ${got.join(', ')}`;
    for (const key of want) {
      const m = mismatch((expected as Record<string, unknown>)[key], a[key], `${at}.${key}`);
      if (m) return m;
    }
    return undefined;
  }
  return expected === actual ? undefined : `${at}: expected ${String(expected)}, got ${String(actual)}`;
}

type SendableCommand = Parameters<sqs.SQSClient['send']>[0];
const commands = sqs as unknown as Record<string, new (input: unknown) => SendableCommand>;

function answerPart(output: Record<string, unknown>, expect: Expect): unknown {
  const { $metadata: _metadata, ...answer } = output;
  if (expect.collect !== undefined) {
    const messages = ((answer.Messages as sqs.Message[] | undefined) ?? [])
      .map((m) => {
        const attributes = { ...m.Attributes };
        for (const name of expect.dropAttributes ?? []) delete attributes[name as keyof typeof attributes];
        return { ...m, Attributes: attributes };
      })
      .sort((x, y) => String(x.Body).localeCompare(String(y.Body)));
    return messages;
  }
  let part: unknown = answer;
  for (const key of expect.path?.split('.') ?? [])
    part = (part as Record<string, unknown> | undefined)?.[key];
  return part;
}

/** The same request without the SDK: the error body's `__type` names the query error code's shape. */
async function rawErrorType(h: Harness, op: string, input: unknown): Promise<string> {
  const res = await fetch(h.runtime.url, {
    method: 'POST',
    headers: { 'x-amz-target': `AmazonSQS.${op}`, 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { __type?: string };
  return String(body.__type ?? '').replace(/^.*#/, '');
}

async function runStep(h: Harness, step: Step, vars: Vars): Promise<void> {
  const Command = commands[`${step.op}Command`];
  assert.ok(Command, `the SDK has no ${step.op}Command`);
  const input = resolve(step.input, vars);
  const attempt = async (): Promise<string | undefined> => {
    const command = new Command(input);
    if (step.headers) {
      const headers = step.headers;
      command.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers: Record<string, string> };
          Object.assign(request.headers, headers);
          return next(args);
        },
        { step: 'build', name: 'recordedHeaders' },
      );
    }
    let output: Record<string, unknown> | undefined;
    let error:
      | (Error & { Code?: string; Type?: string; $metadata?: { httpStatusCode?: number } })
      | undefined;
    try {
      output = (await h.sqs.send(command)) as unknown as Record<string, unknown>;
    } catch (e) {
      error = e as typeof error;
    }
    const expect = step.expect;
    if (!expect) {
      if (error) throw error;
      if (step.save) {
        const handle = (output?.Messages as sqs.Message[] | undefined)?.[0]?.ReceiptHandle;
        assert.ok(handle, `${step.op} received no message to save`);
        vars.set(`${step.save}.handle`, handle);
      }
      return undefined;
    }
    if (expect.error) {
      if (!error) return `expected ${expect.error.Code}, got success ${JSON.stringify(output)}`;
      const want = resolve(expect.error, vars) as NonNullable<Expect['error']>;
      const problems = [
        mismatch(want.Code, error.Code, 'Code'),
        mismatch(want.Message, error.message, 'Message'),
        want.Type ? mismatch(want.Type, error.Type, 'Type') : undefined,
        want.HTTPStatusCode
          ? mismatch(want.HTTPStatusCode, error.$metadata?.httpStatusCode, 'HTTPStatusCode')
          : undefined,
        want.QueryErrorCode
          ? mismatch(want.QueryErrorCode, await rawErrorType(h, step.op, input), 'QueryErrorCode (__type)')
          : undefined,
      ].filter(Boolean);
      return problems.length > 0 ? problems.join('; ') : undefined;
    }
    if (error) return `expected success, got ${error.name}: ${error.message}`;
    if (step.save) {
      const handle = (output?.Messages as sqs.Message[] | undefined)?.[0]?.ReceiptHandle;
      if (handle) vars.set(`${step.save}.handle`, handle);
    }
    return mismatch(resolve(expect.output, vars), answerPart(output ?? {}, expect));
  };
  let problem = await attempt();
  const deadline = Date.now() + 10_000;
  while (problem && step.expect?.eventually && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    problem = await attempt();
  }
  assert.equal(problem, undefined, `${step.op} (${step.expect?.recorded ?? 'setup'}): ${problem}`);
}

describe('SQS answers as AWS recorded', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('holds a corpus with a recorded expectation in every case', () => {
    assert.ok(corpus.cases.length >= 40);
    for (const c of corpus.cases)
      assert.ok(
        c.steps.some((s) => s.expect),
        c.name,
      );
  });

  corpus.cases.forEach((c, index) => {
    it(`${c.name} [${c.test.split('::').pop()}]`, async () => {
      const vars: Vars = new Map();
      for (const [key, spec] of Object.entries(c.queues)) {
        const name = `rec${index}-${key}`;
        const arn = `arn:aws:sqs:us-east-1:000000000000:${name}`;
        const { QueueUrl } = await h.sqs.send(
          new sqs.CreateQueueCommand({
            QueueName: name,
            Attributes: resolve(spec.Attributes ?? {}, vars) as Record<string, string>,
          }),
        );
        vars.set(key, QueueUrl ?? '');
        vars.set(`${key}.name`, name);
        vars.set(`${key}.arn`, arn);
        vars.set(`${key}.arnx`, `${arn}doesntexist`);
      }
      vars.set('new', `rec${index}-new`);
      for (const step of c.steps) await runStep(h, step, vars);
    });
  });
});
