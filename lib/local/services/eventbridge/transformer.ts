/**
 * Renders a rule target's input transformer as EventBridge does (facts recorded against EventBridge,
 * see test/local/transformer.test.ts): variables from `InputPathsMap` (JSON paths into the event) and
 * the predefined `aws.events.*` ones are substituted into `InputTemplate`.
 * - Outside a JSON string a placeholder takes the value as JSON (strings quoted); a path that
 *   selects nothing renders as `""`.
 * - Inside a string it takes the value's text, and nothing for a missing path. An object or a list
 *   renders without quotes (`[ACTIVE,INACTIVE]`, `{acc_id:42}`) in a template that is a string
 *   (`"..."`), and as raw JSON in a JSON template, which makes that output invalid.
 * - `<aws.events.event.json>` is the whole event; `<aws.events.event>` its envelope without detail,
 *   with `detailType` and the ingestion time.
 * - An output that is not valid JSON is not delivered, unless the template is a string template.
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

/**
 * Problems with a transformer's definition (empty when it is valid), worded as PutTargets words them
 * (`InputTemplate for target <id> contains invalid placeholder <name>.`).
 */
export function validateTransformer(t: InputTransformer, targetId = '(unnamed)'): string[] {
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
  else
    for (const name of placeholders(t.InputTemplate))
      if (!RESERVED.has(name) && !(name in paths))
        problems.push(`InputTemplate for target ${targetId} contains invalid placeholder ${name}.`);
  return problems;
}

/** The placeholder names (`<name>`, no white space inside) a template uses. */
function placeholders(template: string): string[] {
  return [...template.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] as string);
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
    case 'aws.events.event':
      return {
        kind: 'raw',
        json: JSON.stringify({
          id: event.id,
          account: event.account,
          detailType: event['detail-type'],
          time: ctx.ingestionTime,
          source: event.source,
          region: event.region,
          resources: event.resources,
          version: event.version,
        }),
      };
  }
  const path = t.InputPathsMap?.[name];
  if (path === undefined) return undefined;
  const value = evaluateJsonPath(event, path);
  return value === undefined ? { kind: 'missing' } : { kind: 'value', value };
}

/**
 * Renders the target input for `event`, or undefined when EventBridge would not deliver it (the
 * output is not valid JSON and the template is not a string template). Placeholders that name no
 * variable are left as written (EventBridge refuses them when the target is put: see
 * `validateTransformer`).
 */
export function renderInput(
  t: InputTransformer,
  event: Record<string, unknown>,
  ctx: TransformContext,
): string | undefined {
  const template = t.InputTemplate;
  const stringTemplate = template.trimStart().startsWith('"');
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
        out += substitute(value, inString, stringTemplate);
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
  if (stringTemplate) return out;
  try {
    JSON.parse(out);
    return out;
  } catch {
    return undefined;
  }
}

function substitute(value: Value, inString: boolean, stringTemplate: boolean): string {
  if (value.kind === 'raw') return value.json;
  if (value.kind === 'missing') return inString ? '' : '""';
  const v = value.value;
  if (inString) {
    if (v !== null && typeof v === 'object')
      return stringTemplate ? JSON.stringify(v).replaceAll('"', '') : JSON.stringify(v);
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return JSON.stringify(text).slice(1, -1);
  }
  return JSON.stringify(v);
}
