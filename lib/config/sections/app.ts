/**
 * The `app:` section: names, retention and the publish API.
 */
import { isScalar, isSeq, type Node } from 'yaml';
import { CLOUDWATCH } from '../../../common/aws-limits.ts';
import { formatDuration, parseDuration } from '../durations.ts';
import { KEBAB_CASE, toKebabCase } from '../identifiers.ts';
import type { AlarmSettings, AppQuotas, PublishApiAuth, PublishApiSettings } from '../types.ts';
import type { Entry, YamlReader } from '../yaml-reader.ts';

const APP_KEYS = [
  'name',
  'stage',
  'archiveRetentionDays',
  'dedupRetention',
  'publishApi',
  'quotas',
  'alarms',
] as const;
const ALARM_KEYS = ['topic', 'okActions'] as const;
const QUOTA_KEYS = ['rulesPerBus'] as const;
const PUBLISH_API_KEYS = ['auth', 'issuer', 'audience', 'throttle'] as const;
const THROTTLE_KEYS = ['rateLimit', 'burstLimit'] as const;
const AUTH_TYPES = ['iam', 'apiKey', 'jwt'] as const;

/** App settings before the dedup default (which needs every RPC) is known. */
export interface AppDraft {
  readonly name?: string;
  readonly stage: string;
  readonly archiveRetentionDays: number;
  /** Explicit `dedupRetention`, in seconds. */
  readonly dedupRetentionSeconds?: number;
  readonly dedupRetentionNode?: Node;
  readonly publishApi: PublishApiSettings;
  readonly quotas?: AppQuotas;
  /** The `rulesPerBus` value node (or `app`), where a router over its rule quota is reported. */
  readonly quotaNode?: Node;
  readonly alarms?: AlarmSettings;
}

const DEFAULT_PUBLISH_API: PublishApiSettings = { auth: { type: 'iam' }, rateLimit: 100, burstLimit: 200 };

/** Reads `app:` (a missing section is reported by the caller and yields the defaults). */
export function readApp(reader: YamlReader, entry: Entry | undefined): AppDraft {
  if (!entry) return { stage: 'dev', archiveRetentionDays: 30, publishApi: DEFAULT_PUBLISH_API };
  const { keyNode, value: node } = entry;
  const map = reader.asMap(node);
  if (!map) {
    reader.wrongType(
      { keyNode, value: node },
      'a mapping with at least `name:`',
      '"app"',
      'Write `app:` then, indented below it, `name: my-app`.',
    );
    return { stage: 'dev', archiveRetentionDays: 30, publishApi: DEFAULT_PUBLISH_API };
  }
  const fields = reader.fields(map, '"app"', APP_KEYS);
  const name = readKebab(reader, fields.get('name'), 'app name');
  if (!fields.has('name'))
    reader.missing(
      keyNode,
      'name',
      '"app"',
      'Add `name: <kebab-case-name>` under `app:`; it starts every AWS resource name.',
    );
  const stage = readKebab(reader, fields.get('stage'), 'stage') ?? 'dev';
  const archiveRetentionDays =
    reader.integer(fields.get('archiveRetentionDays'), '"archiveRetentionDays" of "app"', 0, 36500) ?? 30;
  const dedup = fields.get('dedupRetention');
  const dedupRetentionSeconds = dedup ? readDedupRetention(reader, dedup) : undefined;
  const publishApi = readPublishApi(reader, fields.get('publishApi'));
  const quotasEntry = fields.get('quotas');
  const quotasMap = quotasEntry ? reader.asMap(quotasEntry.value) : undefined;
  if (quotasEntry && !quotasMap)
    reader.wrongType(
      quotasEntry,
      'a mapping',
      '"quotas" of "app"',
      'Write e.g. `quotas: { rulesPerBus: 500 }`.',
    );
  const quotaFields = quotasMap ? reader.fields(quotasMap, '"quotas" of "app"', QUOTA_KEYS) : undefined;
  // Up to the largest "Rules per event bus" Service Quotas grants on request.
  const rulesPerBus = reader.integer(
    quotaFields?.get('rulesPerBus'),
    '"rulesPerBus" of "app.quotas"',
    1,
    100_000,
  );
  const alarms = readAlarms(reader, fields.get('alarms'));
  return {
    ...(alarms ? { alarms } : {}),
    ...(name !== undefined ? { name } : {}),
    stage,
    archiveRetentionDays,
    ...(dedupRetentionSeconds !== undefined ? { dedupRetentionSeconds } : {}),
    ...(dedup ? { dedupRetentionNode: dedup.value ?? dedup.keyNode } : {}),
    publishApi,
    ...(rulesPerBus !== undefined ? { quotas: { rulesPerBus } } : {}),
    quotaNode: quotaFields?.get('rulesPerBus')?.value ?? keyNode,
  };
}

/** Reads `app.alarms` (topic ARN, okActions); undefined when absent or empty. */
function readAlarms(reader: YamlReader, entry: Entry | undefined): AlarmSettings | undefined {
  if (!entry || reader.isNull(entry.value)) return undefined;
  const map = reader.asMap(entry.value);
  if (!map) {
    reader.wrongType(
      entry,
      'a mapping (topic, okActions)',
      '"alarms" of "app"',
      'Write e.g. `alarms: { topic: arn:aws:sns:eu-west-1:123456789012:ops-alerts, okActions: true }`.',
    );
    return undefined;
  }
  const fields = reader.fields(map, '"alarms" of "app"', ALARM_KEYS);
  const topicEntry = fields.get('topic');
  let topicArn = topicEntry
    ? reader.string(topicEntry, '"topic" of "app.alarms"', 'Write the ARN of an SNS topic.')
    : undefined;
  if (topicEntry && topicArn !== undefined && !CLOUDWATCH.snsTopicArn.test(topicArn)) {
    const fifo = topicArn.endsWith('.fifo');
    reader.diagnostics.error(
      reader.loc(topicEntry.value),
      'invalid-topic-arn',
      fifo
        ? `The alarm topic "${topicArn}" is a FIFO topic; CloudWatch alarms can only notify standard topics.`
        : `The alarm topic "${topicArn}" is not the ARN of an SNS topic.`,
      fifo
        ? 'Name a standard SNS topic, or remove "topic" to use the router\'s own alarm topic.'
        : 'Write arn:aws:sns:<region>:<12-digit account>:<topic name>, e.g. arn:aws:sns:eu-west-1:123456789012:ops-alerts, or remove "topic" to use the router\'s own alarm topic.',
    );
    topicArn = undefined;
  }
  const okEntry = fields.get('okActions');
  let okActions = false;
  if (okEntry) {
    const raw = isScalar(okEntry.value) ? okEntry.value.value : undefined;
    if (typeof raw === 'boolean') okActions = raw;
    else
      reader.wrongType(
        okEntry,
        'true or false',
        '"okActions" of "app.alarms"',
        'Write `okActions: true` to be told when an alarm is over too, or remove it.',
      );
  }
  return { ...(topicArn !== undefined ? { topicArn } : {}), okActions };
}

function readKebab(reader: YamlReader, entry: Entry | undefined, what: string): string | undefined {
  if (!entry) return undefined;
  const raw = isScalar(entry.value) ? entry.value.value : undefined;
  const value = typeof raw === 'number' ? String(raw) : reader.string(entry, what);
  if (value === undefined) return undefined;
  if (!KEBAB_CASE.test(value)) {
    const fix = toKebabCase(value);
    reader.diagnostics.error(
      reader.loc(entry.value),
      'invalid-name',
      `The ${what} "${value}" is not lower-case kebab-case; it becomes part of AWS resource names.`,
      fix && KEBAB_CASE.test(fix)
        ? `Write "${fix}".`
        : 'Use lower-case letters, digits and dashes, starting with a letter.',
    );
    return undefined;
  }
  return value;
}

function readDedupRetention(reader: YamlReader, entry: Entry): number | undefined {
  const raw = isScalar(entry.value) ? entry.value.value : undefined;
  const parsed = raw === null || raw === undefined ? { error: 'empty' } : parseDuration(raw);
  if ('error' in parsed) {
    reader.wrongType(
      entry,
      'a duration such as 21d',
      '"dedupRetention" of "app"',
      'Write a number of seconds or a whole number with a unit: 12h, 21d.',
    );
    return undefined;
  }
  if (parsed.seconds < 3600) {
    reader.diagnostics.error(
      reader.loc(entry.value),
      'out-of-range',
      `"dedupRetention" of "app" is ${formatDuration(parsed.seconds)}; delivery records must be kept at least 1h.`,
      'Remove it to get the safe default (the longest queue + DLQ retention of any RPC, plus a day), or set e.g. 21d.',
    );
    return undefined;
  }
  return parsed.seconds;
}

function readPublishApi(reader: YamlReader, entry: Entry | undefined): PublishApiSettings {
  if (!entry) return DEFAULT_PUBLISH_API;
  const map = reader.asMap(entry.value);
  if (!map) {
    if (!reader.isNull(entry.value))
      reader.wrongType(entry, 'a mapping (auth, issuer, audience, throttle)', '"publishApi"');
    return DEFAULT_PUBLISH_API;
  }
  const fields = reader.fields(map, '"publishApi"', PUBLISH_API_KEYS);
  const auth = readAuth(reader, fields);
  let { rateLimit, burstLimit } = DEFAULT_PUBLISH_API;
  const throttle = fields.get('throttle');
  if (throttle) {
    const throttleMap = reader.asMap(throttle.value);
    if (!throttleMap)
      reader.wrongType(throttle, 'a mapping (rateLimit, burstLimit)', '"throttle" of "publishApi"');
    else {
      const t = reader.fields(throttleMap, '"throttle"', THROTTLE_KEYS);
      rateLimit =
        reader.integer(t.get('rateLimit'), '"rateLimit" (requests per second)', 1, 1_000_000) ?? rateLimit;
      burstLimit = reader.integer(t.get('burstLimit'), '"burstLimit" (requests)', 0, 1_000_000) ?? burstLimit;
    }
  }
  return { auth, rateLimit, burstLimit };
}

function readAuth(reader: YamlReader, fields: ReadonlyMap<string, Entry>): PublishApiAuth {
  const entry = fields.get('auth');
  const type = entry
    ? reader.string(entry, '"auth" of "publishApi"', `One of: ${AUTH_TYPES.join(', ')}.`)
    : 'iam';
  const issuerEntry = fields.get('issuer');
  const audienceEntry = fields.get('audience');
  if (type !== undefined && !(AUTH_TYPES as readonly string[]).includes(type)) {
    const near = AUTH_TYPES.find((t) => t.toLowerCase() === type.toLowerCase());
    reader.diagnostics.error(
      reader.loc(entry?.value),
      'invalid-value',
      `"${type}" is not a publish API auth type.`,
      near ? `Write "${near}".` : `Use one of: ${AUTH_TYPES.join(', ')}.`,
    );
    return { type: 'iam' };
  }
  if (type !== 'jwt') {
    for (const extra of [issuerEntry, audienceEntry]) {
      if (extra)
        reader.diagnostics.error(
          reader.loc(extra.keyNode),
          'unused-setting',
          `"${extra.key}" only applies to jwt auth, but auth is ${type ?? 'not set'}.`,
          `Remove "${extra.key}", or set "auth: jwt".`,
        );
    }
    return type === 'apiKey' ? { type: 'apiKey' } : { type: 'iam' };
  }
  const authLoc = entry?.keyNode;
  const issuer = issuerEntry ? reader.string(issuerEntry, '"issuer"') : undefined;
  if (!issuerEntry && authLoc)
    reader.diagnostics.error(
      reader.loc(authLoc),
      'missing-field',
      'jwt auth needs an "issuer".',
      'Add `issuer: https://<your identity provider>` under publishApi (the `iss` claim of the tokens).',
    );
  if (issuer !== undefined && !isHttpsUrl(issuer))
    reader.diagnostics.error(
      reader.loc(issuerEntry?.value),
      'invalid-value',
      `The issuer "${issuer}" is not an https URL.`,
      'Write the identity provider URL, e.g. https://auth.example.com/.',
    );
  const audience = audienceEntry ? readAudience(reader, audienceEntry) : [];
  if (!audienceEntry && authLoc)
    reader.diagnostics.error(
      reader.loc(authLoc),
      'missing-field',
      'jwt auth needs an "audience".',
      'Add `audience: <client id>` (or a list of them) under publishApi: the accepted `aud` claims.',
    );
  return { type: 'jwt', issuer: issuer ?? '', audience };
}

function readAudience(reader: YamlReader, entry: Entry): string[] {
  const single = reader.stringOf(entry.value);
  if (single !== undefined && single.trim() !== '') return [single];
  const seq = isSeq(entry.value) ? entry.value : undefined;
  const out: string[] = [];
  if (seq && seq.items.length > 0) {
    for (const item of seq.items) {
      const node = reader.resolve(item);
      const value = reader.stringOf(node);
      if (value === undefined || value.trim() === '')
        reader.wrongType(node ?? seq, 'a non-empty text', 'an audience entry');
      else out.push(value);
    }
    return out;
  }
  reader.wrongType(entry, 'a text or a non-empty list of texts', '"audience"');
  return out;
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}
