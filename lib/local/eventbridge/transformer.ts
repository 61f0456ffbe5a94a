/**
 * Renders a rule target's input transformer as EventBridge does: variables from `InputPathsMap`
 * (JSON paths into the event) and the predefined `aws.events.*` ones are substituted into
 * `InputTemplate`. A placeholder inside a JSON string takes the value's text (escaped for the
 * string); outside one it takes the value as JSON (strings quoted). `<aws.events.event>` and
 * `<aws.events.event.json>` are inserted as raw JSON. A path that selects nothing renders as `null`
 * outside strings and as nothing inside them.
 */
import { evaluateJsonPath, parseJsonPath } from './json-path.ts';

export interface InputTransformer {
  readonly InputPathsMap?: Readonly<Record<string, string>>;
  readonly InputTemplate: string;
}

export interface TransformContext {
  readonly ruleArn: string;
  readonly ruleName: string;
  /** ISO-8601 time the bus received the event. */
  readonly ingestionTime: string;
}

const RESERVED = new Set([
  'aws.events.rule-arn',
  'aws.events.rule-name',
  'aws.events.event',
  'aws.events.event.json',
  'aws.events.event.ingestion-time',
]);

/** Problems with a transformer's definition (empty when it is valid). */
export function validateTransformer(t: InputTransformer): string[] {
  const problems: string[] = [];
  const paths = t.InputPathsMap ?? {};
  if (Object.keys(paths).length > 100) problems.push('InputPathsMap has more than 100 variables.');
  for (const [name, path] of Object.entries(paths)) {
    if (RESERVED.has(name) || name.startsWith('aws.'))
      problems.push(`InputPathsMap variable "${name}" uses a reserved name.`);
    try {
      parseJsonPath(path);
    } catch (error) {
      problems.push(`InputPathsMap variable "${name}": ${(error as Error).message}`);
    }
  }
  if (typeof t.InputTemplate !== 'string') problems.push('InputTemplate must be a string.');
  return problems;
}

type Value = { kind: 'raw'; json: string } | { kind: 'value'; value: unknown } | { kind: 'missing' };

function lookup(
  name: string,
  event: Record<string, unknown>,
  t: InputTransformer,
  ctx: TransformContext,
): Value | undefined {
  switch (name) {
    case 'aws.events.rule-arn':
      return { kind: 'value', value: ctx.ruleArn };
    case 'aws.events.rule-name':
      return { kind: 'value', value: ctx.ruleName };
    case 'aws.events.event.ingestion-time':
      return { kind: 'value', value: ctx.ingestionTime };
    case 'aws.events.event.json':
      return { kind: 'raw', json: JSON.stringify(event) };
    case 'aws.events.event': {
      const { detail: _detail, ...rest } = event;
      return { kind: 'raw', json: JSON.stringify(rest) };
    }
  }
  const path = t.InputPathsMap?.[name];
  if (path === undefined) return undefined;
  const value = evaluateJsonPath(event, path);
  return value === undefined ? { kind: 'missing' } : { kind: 'value', value };
}

/** Renders the target input for `event`. Unknown placeholders are left as written. */
export function renderInput(
  t: InputTransformer,
  event: Record<string, unknown>,
  ctx: TransformContext,
): string {
  const template = t.InputTemplate;
  let out = '';
  let inString = false;
  let i = 0;
  while (i < template.length) {
    const c = template[i] as string;
    if (c === '<') {
      const end = template.indexOf('>', i + 1);
      const name = end > i ? template.slice(i + 1, end) : '';
      const value = name && !/\s/.test(name) ? lookup(name, event, t, ctx) : undefined;
      if (value) {
        out += substitute(value, inString);
        i = end + 1;
        continue;
      }
    }
    if (inString && c === '\\') {
      out += c + (template[i + 1] ?? '');
      i += 2;
      continue;
    }
    if (c === '"') inString = !inString;
    out += c;
    i++;
  }
  return out;
}

function substitute(value: Value, inString: boolean): string {
  if (value.kind === 'raw') return value.json;
  if (value.kind === 'missing') return inString ? '' : 'null';
  const v = value.value;
  if (inString) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return JSON.stringify(text).slice(1, -1);
  }
  return JSON.stringify(v);
}
