/**
 * Event buses and their rules: PutEvents validation, pattern matching (lib/patterns), input
 * transformers and delivery to SQS targets, with the target's retry policy and dead-letter queue.
 * A target delivery is made durable before PutEvents answers, so an accepted event reaches its
 * queues even if the process is killed right after.
 */
import { randomUUID } from 'node:crypto';
import type { BusEvent } from '../../../functions/commons/contracts.ts';
import { compilePattern, type PatternMatcher } from '../../patterns/index.ts';
import { eventsErrors } from '../aws-error.ts';
import type { QueueStore } from '../sqs/store.ts';
import { type InputTransformer, renderInput } from './transformer.ts';

export interface RetryPolicy {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeInSeconds: number;
}

export interface RuleTarget {
  readonly id: string;
  readonly arn: string;
  readonly inputTransformer?: InputTransformer;
  /** Constant input (Input). */
  readonly input?: string;
  /** InputPath: a JSON path whose value is sent. */
  readonly inputPath?: string;
  readonly deadLetterArn?: string;
  readonly retryPolicy: RetryPolicy;
}

export interface RuleDefinition {
  readonly name: string;
  readonly busName: string;
  readonly pattern: unknown;
  readonly enabled: boolean;
  readonly targets: readonly RuleTarget[];
}

interface CompiledRule extends RuleDefinition {
  readonly arn: string;
  readonly matches: PatternMatcher;
}

/** One event as delivered to targets: the contract's bus event, with any JSON object as detail. */
export interface BusEventRecord extends Omit<BusEvent, 'detail'> {
  readonly detail: unknown;
}

export type RouteOutcome = 'delivered' | 'retrying' | 'dead-lettered' | 'dropped' | 'unmatched';

export interface RouteLog {
  readonly event: BusEventRecord;
  readonly rule: string;
  readonly targetArn: string;
  readonly outcome: RouteOutcome;
  readonly attempt: number;
  readonly error?: string;
}

export const DEFAULT_RETRY: RetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 };
const MAX_ENTRIES = 10;
/** PutEvents request limit (entries together), 1 MiB since 2025. */
const MAX_REQUEST_BYTES = 1024 * 1024;

/** EventBridge timestamps: ISO-8601 without milliseconds. */
export function eventTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface PutEntry {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly Resources?: unknown;
  readonly EventBusName?: unknown;
  readonly Time?: unknown;
  readonly TraceHeader?: unknown;
}

export interface PutResultEntry {
  readonly EventId?: string;
  readonly ErrorCode?: string;
  readonly ErrorMessage?: string;
}

/** Size of an entry as EventBridge counts it. */
function entrySize(e: PutEntry): number {
  let size = e.Time !== undefined ? 14 : 0;
  for (const key of ['Source', 'DetailType', 'Detail'] as const) {
    const v = e[key];
    if (typeof v === 'string') size += Buffer.byteLength(v);
  }
  if (Array.isArray(e.Resources))
    for (const r of e.Resources) if (typeof r === 'string') size += Buffer.byteLength(r);
  return size;
}

function parseTime(value: unknown, now: number): number | undefined {
  if (value === undefined || value === null) return now;
  const ms = typeof value === 'number' ? value * 1000 : Date.parse(String(value));
  return Number.isFinite(ms) ? ms : undefined;
}

export class EventBuses {
  private buses = new Set<string>(['default']);
  private rules: CompiledRule[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners: Array<(log: RouteLog) => void> = [];

  constructor(
    private readonly store: QueueStore,
    private readonly region: string,
    private readonly account: string,
  ) {}

  /** Replaces the buses and rules (on start and on reload). */
  configure(buses: readonly string[], rules: readonly RuleDefinition[]): void {
    this.buses = new Set(['default', ...buses]);
    this.rules = rules.map((r) => ({
      ...r,
      arn: this.ruleArn(r.busName, r.name),
      matches: compilePattern(r.pattern),
    }));
  }

  ruleArn(busName: string, ruleName: string): string {
    const path = busName === 'default' ? ruleName : `${busName}/${ruleName}`;
    return `arn:aws:events:${this.region}:${this.account}:rule/${path}`;
  }

  busArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.account}:event-bus/${name}`;
  }

  busNames(): string[] {
    return [...this.buses];
  }

  ruleList(): readonly RuleDefinition[] {
    return this.rules;
  }

  onRoute(listener: (log: RouteLog) => void): void {
    this.listeners.push(listener);
  }

  private emit(log: RouteLog): void {
    for (const l of this.listeners) l(log);
  }

  private busName(value: unknown): string {
    if (typeof value !== 'string' || value === '') return 'default';
    const m = /^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(value);
    return m?.[1] ?? value;
  }

  /** PutEvents: validates each entry, routes the valid ones, and reports per entry. */
  async putEvents(input: {
    Entries?: unknown;
  }): Promise<{ FailedEntryCount: number; Entries: PutResultEntry[] }> {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0)
      throw eventsErrors.validation(
        "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
      );
    if (entries.length > MAX_ENTRIES)
      throw eventsErrors.validation(
        `1 validation error detected: Value '[${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
      );
    const total = (entries as PutEntry[]).reduce((n, e) => n + entrySize(e), 0);
    if (total > MAX_REQUEST_BYTES)
      throw eventsErrors.validation('Total size of the entries in the request is over the limit.');
    const now = Date.now();
    const results: PutResultEntry[] = [];
    const durable: Promise<void>[] = [];
    for (const entry of entries as PutEntry[]) {
      const checked = this.checkEntry(entry, now);
      if (!('detail' in checked)) {
        results.push(checked);
        continue;
      }
      const event: BusEventRecord = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType as string,
        source: entry.Source as string,
        account: this.account,
        time: eventTime(parseTime(entry.Time, now) ?? now),
        region: this.region,
        resources: Array.isArray(entry.Resources) ? (entry.Resources as string[]) : [],
        detail: checked.detail,
      };
      const index = results.length;
      results.push({ EventId: event.id });
      // An entry is accepted only once every target's copy is on disk; otherwise it fails, and the
      // publisher's retry (same eventId in the envelope) is deduplicated where a copy did arrive.
      const stored = Promise.all(this.route(this.busName(entry.EventBusName), event, now));
      durable.push(
        stored.then(
          () => undefined,
          (error: Error) => {
            results[index] = { ErrorCode: 'InternalFailure', ErrorMessage: error.message };
          },
        ),
      );
    }
    await Promise.all(durable);
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  }

  /** The entry's parsed detail, or the result entry that says why it is refused. */
  private checkEntry(e: PutEntry, now: number): PutResultEntry | { readonly detail: object } {
    const invalid = (name: string, reason: string): PutResultEntry => ({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: `Parameter ${name} is not valid. Reason: ${reason}`,
    });
    if (typeof e.Source !== 'string' || e.Source === '')
      return invalid('Source', 'Source is a required argument.');
    if (typeof e.DetailType !== 'string' || e.DetailType === '')
      return invalid('DetailType', 'DetailType is a required argument.');
    if (typeof e.Detail !== 'string' || e.Detail === '')
      return invalid('Detail', 'Detail is a required argument.');
    let detail: unknown;
    try {
      detail = JSON.parse(e.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail))
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    if (
      e.Resources !== undefined &&
      (!Array.isArray(e.Resources) || e.Resources.some((r) => typeof r !== 'string'))
    )
      return invalid('Resources', 'Resources must be a list of strings.');
    if (parseTime(e.Time, now) === undefined) return invalid('Time', 'Time is not a valid timestamp.');
    const bus = this.busName(e.EventBusName);
    if (!this.buses.has(bus))
      return { ErrorCode: 'NotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
    return { detail };
  }

  /** Matches `event` against the rules of `busName` and sends it to their targets. */
  route(busName: string, event: BusEventRecord, ingestedAt = Date.now()): Promise<void>[] {
    const durable: Promise<void>[] = [];
    let matchedAny = false;
    for (const rule of this.rules) {
      if (rule.busName !== busName || !rule.enabled) continue;
      let matched = false;
      try {
        matched = rule.matches(event);
      } catch {
        matched = false;
      }
      if (!matched) continue;
      matchedAny = true;
      for (const target of rule.targets) {
        const sent = this.deliver(rule, target, event, ingestedAt, 1);
        if (sent) durable.push(sent);
      }
    }
    if (!matchedAny) this.emit({ event, rule: '', targetArn: '', outcome: 'unmatched', attempt: 0 });
    return durable;
  }

  private render(rule: CompiledRule, target: RuleTarget, event: BusEventRecord, ingestedAt: number): string {
    // InputPath is a transformer whose template is the one value it selects.
    const transformer =
      target.inputTransformer ??
      (target.input === undefined && target.inputPath
        ? { InputPathsMap: { v: target.inputPath }, InputTemplate: '<v>' }
        : undefined);
    if (transformer)
      return renderInput(transformer, event as unknown as Record<string, unknown>, {
        ruleArn: rule.arn,
        ruleName: rule.name,
        ingestionTime: eventTime(ingestedAt),
      });
    return target.input ?? JSON.stringify(event);
  }

  private deliver(
    rule: CompiledRule,
    target: RuleTarget,
    event: BusEventRecord,
    ingestedAt: number,
    attempt: number,
  ): Promise<void> | undefined {
    try {
      const queue = this.store.byArn(target.arn);
      if (!queue)
        throw Object.assign(new Error(`Target ${target.arn} does not exist.`), { code: 'ResourceNotFound' });
      const body = this.render(rule, target, event, ingestedAt);
      if (Buffer.byteLength(body) > queue.config.maximumMessageSize)
        throw Object.assign(new Error('Message must be shorter than the queue maximum message size.'), {
          code: 'SQS.InvalidParameterValue',
        });
      const { durable } = queue.send({ body });
      this.emit({ event, rule: rule.name, targetArn: target.arn, outcome: 'delivered', attempt });
      return durable;
    } catch (error) {
      this.failed(rule, target, event, ingestedAt, attempt, error as Error & { code?: string });
      return undefined;
    }
  }

  private failed(
    rule: CompiledRule,
    target: RuleTarget,
    event: BusEventRecord,
    ingestedAt: number,
    attempt: number,
    error: Error & { code?: string },
  ): void {
    const policy = target.retryPolicy;
    const ageExhausted = Date.now() - ingestedAt >= policy.maximumEventAgeInSeconds * 1000;
    const retriesExhausted = attempt > policy.maximumRetryAttempts;
    if (!ageExhausted && !retriesExhausted) {
      this.emit({
        event,
        rule: rule.name,
        targetArn: target.arn,
        outcome: 'retrying',
        attempt,
        error: error.message,
      });
      const delay = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.deliver(rule, target, event, ingestedAt, attempt + 1);
      }, delay);
      timer.unref();
      this.timers.add(timer);
      return;
    }
    const dlq = target.deadLetterArn ? this.store.byArn(target.deadLetterArn) : undefined;
    if (!dlq) {
      this.emit({
        event,
        rule: rule.name,
        targetArn: target.arn,
        outcome: 'dropped',
        attempt,
        error: error.message,
      });
      return;
    }
    const str = (v: string) => ({ DataType: 'String', StringValue: v });
    dlq.send({
      body: JSON.stringify(event),
      attributes: {
        RULE_ARN: str(rule.arn),
        TARGET_ARN: str(target.arn),
        ERROR_CODE: str(error.code ?? 'Error'),
        ERROR_MESSAGE: str(error.message),
        EXHAUSTED_RETRY_CONDITION: str(
          ageExhausted ? 'MaximumEventAgeExhausted' : 'MaximumRetryAttemptsExhausted',
        ),
        RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(attempt - 1) },
      },
    });
    this.emit({
      event,
      rule: rule.name,
      targetArn: target.arn,
      outcome: 'dead-lettered',
      attempt,
      error: error.message,
    });
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
