/**
 * Per-RPC settings as written in `defaults:` and on each RPC, with their ranges.
 */
import { isScalar, type Node } from 'yaml';
import { CLOUDWATCH, LAMBDA, SQS } from '../../common/aws-limits.ts';
import { capitalize } from '../../common/case.ts';
import {
  MIN_REMOTE_CALL_MS,
  minimumRemoteTimeoutSeconds,
  REMOTE_CONCURRENCY,
} from '../../common/remote-budget.ts';
import { formatDuration, parseDuration } from './durations.ts';
import type { RpcSettings } from './types.ts';
import type { Entry, YamlReader } from './yaml-reader.ts';

interface SettingRule {
  /** Field of RpcSettings it sets. */
  readonly field: keyof RpcSettings;
  readonly kind: 'duration' | 'integer';
  readonly min: number;
  readonly max: number;
  /** What the setting is, for messages. */
  readonly label: string;
}

const DAY = 86400;

/** YAML key -> rule. The keys are the ones a user writes; ranges from the one table of AWS limits. */
const SETTING_RULES: Readonly<Record<string, SettingRule>> = {
  timeout: { field: 'timeoutSeconds', kind: 'duration', ...LAMBDA.timeoutSeconds, label: 'function timeout' },
  memory: { field: 'memoryMb', kind: 'integer', ...LAMBDA.memoryMb, label: 'function memory in MB' },
  batchSize: { field: 'batchSize', kind: 'integer', ...LAMBDA.batchSize, label: 'batch size' },
  batchingWindow: {
    field: 'batchingWindowSeconds',
    kind: 'duration',
    ...LAMBDA.batchingWindowSeconds,
    label: 'batching window',
  },
  maxConcurrency: {
    field: 'maxConcurrency',
    kind: 'integer',
    ...LAMBDA.maxConcurrency,
    label: 'maximum concurrency',
  },
  maxReceiveCount: {
    field: 'maxReceiveCount',
    kind: 'integer',
    ...SQS.maxReceiveCount,
    label: 'maximum receive count',
  },
  queueRetention: {
    field: 'queueRetentionSeconds',
    kind: 'duration',
    ...SQS.retentionSeconds,
    label: 'queue retention',
  },
  dlqRetention: {
    field: 'dlqRetentionSeconds',
    kind: 'duration',
    ...SQS.retentionSeconds,
    label: 'dead-letter queue retention',
  },
  alarmBacklogAge: {
    field: 'alarmBacklogAgeSeconds',
    kind: 'duration',
    ...CLOUDWATCH.messageAgeSeconds,
    label: 'age of the oldest queued message that raises the backlog alarm',
  },
  alarmErrorRate: {
    field: 'alarmErrorRatePercent',
    kind: 'integer',
    ...CLOUDWATCH.errorRatePercent,
    label: 'percent of failed worker invocations that raises the error alarm',
  },
  alarmMinInvocations: {
    field: 'alarmMinInvocations',
    kind: 'integer',
    ...CLOUDWATCH.minInvocations,
    label: 'invocations in five minutes before the error rate counts',
  },
};

export const SETTING_KEYS: readonly string[] = Object.keys(SETTING_RULES);

/** Settings read from one mapping, with the node each came from (for cross-field messages). */
export interface ReadSettings {
  readonly values: Partial<Record<keyof RpcSettings, number>>;
  readonly nodes: Partial<Record<keyof RpcSettings, Node>>;
}

/** Reads the setting keys among `entries`; invalid values are reported and left out. */
export function readSettings(
  reader: YamlReader,
  entries: ReadonlyMap<string, Entry>,
  owner: string,
): ReadSettings {
  const values: Partial<Record<keyof RpcSettings, number>> = {};
  const nodes: Partial<Record<keyof RpcSettings, Node>> = {};
  for (const [key, rule] of Object.entries(SETTING_RULES)) {
    const entry = entries.get(key);
    if (!entry) continue;
    nodes[rule.field] = entry.value ?? entry.keyNode;
    const what = `"${key}" (${rule.label}) of ${owner}`;
    const value =
      rule.kind === 'integer'
        ? reader.integer(entry, what, rule.min, rule.max)
        : readDuration(reader, entry, what, rule.min, rule.max);
    if (value !== undefined) values[rule.field] = value;
  }
  return { values, nodes };
}

function readDuration(
  reader: YamlReader,
  entry: Entry,
  what: string,
  min: number,
  max: number,
): number | undefined {
  const raw = isScalar(entry.value) ? entry.value.value : undefined;
  const parsed = raw === undefined || raw === null ? { error: 'it is empty' } : parseDuration(raw);
  const range = `${formatDuration(min)}..${formatDuration(max)}`;
  if ('error' in parsed) {
    reader.wrongType(
      entry,
      `a duration from ${range}`,
      what,
      'Write a number of seconds or a whole number with a unit: 30s, 5m, 12h, 4d.',
    );
    return undefined;
  }
  if (parsed.seconds < min || parsed.seconds > max) {
    reader.diagnostics.error(
      reader.loc(entry.value),
      'out-of-range',
      `${capitalize(what)} is ${formatDuration(parsed.seconds)}, outside the allowed range ${range}.`,
      `Use a duration from ${formatDuration(min)} to ${formatDuration(max)}.`,
    );
    return undefined;
  }
  return parsed.seconds;
}

/**
 * Cross-field rules on the effective settings of one RPC. `nodes` are where the values were written
 * (the RPC's own first, then `defaults:`).
 */
export function checkSettingCombination(
  reader: YamlReader,
  settings: RpcSettings,
  nodes: Partial<Record<keyof RpcSettings, Node>>,
  owner: string,
  fallback: Node,
): void {
  if (settings.batchSize > 10 && settings.batchingWindowSeconds < 1) {
    reader.diagnostics.error(
      reader.loc(nodes.batchSize ?? fallback),
      'batching-window-required',
      `${capitalize(owner)} has batchSize ${settings.batchSize} with no batching window; SQS event sources only accept a batch size above 10 with a batching window of at least 1s.`,
      `Add "batchingWindow: 1s" (or more) next to batchSize, or lower batchSize to 10.`,
    );
  }
}

/**
 * Refuses a remote RPC whose timeout is too short for its calls to succeed: the worker needs time to
 * claim before the call and to record after it, and calls at most REMOTE_CONCURRENCY records of a
 * batch at once (common/remote-budget.ts). Points at the timeout that applies. True when
 * it reported.
 */
export function checkRemoteTimeout(
  reader: YamlReader,
  settings: RpcSettings,
  nodes: Partial<Record<keyof RpcSettings, Node>>,
  owner: string,
  fallback: Node,
): boolean {
  const minimum = minimumRemoteTimeoutSeconds(settings.batchSize);
  if (settings.timeoutSeconds >= minimum) return false;
  const rounds = Math.ceil(settings.batchSize / REMOTE_CONCURRENCY);
  reader.diagnostics.error(
    reader.loc(nodes.timeoutSeconds ?? nodes.batchSize ?? fallback),
    'remote-timeout-too-short',
    `${capitalize(owner)} is a remote RPC with timeout ${formatDuration(settings.timeoutSeconds)}, too short for its calls to succeed: ` +
      `with batchSize ${settings.batchSize} its worker calls ${rounds === 1 ? 'once' : `in ${rounds} rounds of ${REMOTE_CONCURRENCY}`} per invocation, and each call needs at least ${MIN_REMOTE_CALL_MS} ms besides the time to claim the delivery and record the outcome.`,
    `Set "timeout: ${formatDuration(minimum)}" or more${rounds > 1 ? `, or lower batchSize to ${REMOTE_CONCURRENCY}` : ''}.`,
  );
  return true;
}

/**
 * Warns when the DLQ of an RPC keeps messages for less time than its queue: a message keeps its
 * original enqueue time when it moves to the DLQ, so it can expire there almost at once. Points at
 * the dlqRetention that applies (the RPC's own, else `defaults:`). True when it warned.
 */
export function checkRetentionCombination(
  reader: YamlReader,
  settings: RpcSettings,
  nodes: Partial<Record<keyof RpcSettings, Node>>,
  owner: string,
  fallback: Node,
): boolean {
  const queue = settings.queueRetentionSeconds;
  const dlq = settings.dlqRetentionSeconds;
  if (dlq >= queue) return false;
  reader.diagnostics.warning(
    reader.loc(nodes.dlqRetentionSeconds ?? fallback),
    'dlq-retention-short',
    `The DLQ of ${owner} keeps messages ${formatDuration(dlq)} (dlqRetention), less than its queue's ${formatDuration(queue)} (queueRetention). A message keeps its original enqueue time when it moves to the DLQ, so it can expire there almost at once, before anyone looks at it.`,
    queue >= 14 * DAY
      ? 'Make dlqRetention at least queueRetention: set it to 14d (the maximum), or shorten queueRetention.'
      : `Make dlqRetention at least queueRetention: ${formatDuration(queue)} or more (up to 14d).`,
  );
  return true;
}

/**
 * Refuses a backlog alarm that can never fire: no message waits in a queue longer than the queue keeps
 * it. Points at the alarmBacklogAge that applies. True when it reported.
 */
export function checkBacklogAlarm(
  reader: YamlReader,
  settings: RpcSettings,
  nodes: Partial<Record<keyof RpcSettings, Node>>,
  owner: string,
  fallback: Node,
): boolean {
  const age = settings.alarmBacklogAgeSeconds;
  if (age === undefined || age < settings.queueRetentionSeconds) return false;
  reader.diagnostics.error(
    reader.loc(nodes.alarmBacklogAgeSeconds ?? fallback),
    'alarm-backlog-age-beyond-retention',
    `The backlog alarm of ${owner} waits for a message ${formatDuration(age)} old (alarmBacklogAge), but its queue keeps messages only ${formatDuration(settings.queueRetentionSeconds)} (queueRetention): the alarm could never fire.`,
    `Set alarmBacklogAge below ${formatDuration(settings.queueRetentionSeconds)}, or remove it to get the default (a multiple of the visibility timeout).`,
  );
  return true;
}
