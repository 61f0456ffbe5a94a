/**
 * Event buses and their rules: PutEvents validation, pattern matching (lib/patterns), input
 * transformers and delivery to SQS targets, with the target's retry policy and dead-letter queue.
 * A target delivery is made durable before PutEvents answers, so an accepted event reaches its
 * queues even if the process is killed right after. A delivery waiting for a retry is journaled
 * too (`eventbridge.journal` in the state directory) and resumes after a restart.
 *
 * A delivery that can never succeed (the rendered input is larger than the queue takes, or the
 * input cannot be rendered at all) is not retried: it goes to the target's DLQ at once with its
 * reason, as EventBridge does with non-retriable errors.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { BusEvent } from '../../../../common/contracts.ts';
import { compilePattern, type PatternMatcher } from '../../../patterns/index.ts';
import type { Clock, Timer } from '../../clock.ts';
import { Journal, type JournalRecord } from '../../store/journal.ts';
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

export type RouteOutcome = 'delivered' | 'retrying' | 'dead-lettered' | 'dropped' | 'unmatched' | 'no-bus';

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

/** A failure a retry cannot fix: dead-lettered at once. */
const NON_RETRIABLE = new Set(['SQS.InvalidParameterValue', 'InputTransformationFailed']);

/** A target delivery waiting for its next attempt, as journaled. */
interface PendingRetry {
  readonly key: string;
  readonly busName: string;
  readonly rule: string;
  readonly target: string;
  /** The event without its detail, and the detail as JSON text. */
  readonly event: Omit<BusEventRecord, 'detail'>;
  readonly detail: string;
  readonly ingestedAt: number;
  /** The attempt to make next. */
  readonly attempt: number;
  readonly dueAt: number;
}

/** The event as JSON; a detail too deep to serialise again is carried as the text it arrived as. */
function eventJson(event: BusEventRecord, detailText: string | undefined): string {
  try {
    return JSON.stringify(event);
  } catch {
    const { detail: _detail, ...rest } = event;
    return `${JSON.stringify(rest).slice(0, -1)},"detail":${detailText ?? 'null'}}`;
  }
}

function detailJson(detail: unknown): string {
  try {
    return JSON.stringify(detail);
  } catch {
    return '{}';
  }
}

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
  private readonly timers = new Map<string, Timer>();
  private readonly listeners: Array<(log: RouteLog) => void> = [];
  /** Called for every entry accepted on an existing bus (archives); a promise delays the answer until it settles. */
  private readonly accepted: Array<(bus: string, event: BusEventRecord) => Promise<void> | undefined> = [];
  /** Detail text of each event as it was put (for dead letters whose detail cannot be serialised again). */
  private readonly detailTexts = new WeakMap<object, string>();
  /** Target deliveries waiting for a retry, by key; journaled when there is a state directory. */
  private readonly pending = new Map<string, PendingRetry>();
  private readonly journal: Journal | undefined;

  constructor(
    private readonly store: QueueStore,
    private readonly region: string,
    private readonly account: string,
    stateDir?: string,
  ) {
    if (stateDir) {
      const { journal, records } = Journal.open(join(stateDir, 'eventbridge.journal'));
      this.journal = journal;
      for (const r of records) {
        if (r.t === 'retry') {
          const retry = r.retry as PendingRetry;
          this.pending.set(retry.key, retry);
        } else if (r.t === 'done') this.pending.delete(String(r.key));
      }
      journal.compact(() => this.snapshot());
    }
  }

  /** Retry backoff and event age run on the clock of the queues the targets deliver to. */
  private get clock(): Clock {
    return this.store.clock;
  }

  private *snapshot(): Iterable<JournalRecord> {
    for (const retry of this.pending.values()) yield { t: 'retry', retry };
  }

  /** Replaces the buses and rules (on start and on reload); resumes journaled retries whose rule exists. */
  configure(buses: readonly string[], rules: readonly RuleDefinition[]): void {
    this.buses = new Set(['default', ...buses]);
    this.rules = rules.map((r) => ({
      ...r,
      arn: this.ruleArn(r.busName, r.name),
      matches: compilePattern(r.pattern),
    }));
    for (const retry of this.pending.values()) {
      if (this.timers.has(retry.key)) continue;
      const rule = this.rules.find((r) => r.busName === retry.busName && r.name === retry.rule);
      const target = rule?.targets.find((t) => t.id === retry.target);
      if (!rule || !target) continue;
      let detail: unknown;
      try {
        detail = JSON.parse(retry.detail);
      } catch {
        detail = {};
      }
      const event: BusEventRecord = { ...retry.event, detail };
      this.detailTexts.set(event, retry.detail);
      this.schedule(
        retry.key,
        rule,
        target,
        event,
        retry.ingestedAt,
        retry.attempt,
        retry.dueAt - this.clock.now(),
      );
    }
  }

  /** Target deliveries waiting for a retry (restored ones included). */
  pendingRetries(): number {
    return this.pending.size;
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

  /** `listener` sees every event accepted on an existing bus; PutEvents answers once its promise settles. */
  onAccepted(listener: (bus: string, event: BusEventRecord) => Promise<void> | undefined): void {
    this.accepted.push(listener);
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
    const now = this.clock.now();
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
      this.detailTexts.set(event, entry.Detail as string);
      const bus = this.busName(entry.EventBusName);
      const index = results.length;
      results.push({ EventId: event.id });
      if (!this.buses.has(bus)) {
        // EventBridge accepts an entry for a bus that does not exist and loses it without a word;
        // the runtime accepts it too, and says so.
        this.emit({
          event,
          rule: '',
          targetArn: this.busArn(bus),
          outcome: 'no-bus',
          attempt: 0,
          error: `event bus ${bus} does not exist; EventBridge would accept this entry and silently drop it`,
        });
        continue;
      }
      // An entry is accepted only once every target's copy is on disk; otherwise it fails, and the
      // publisher's retry (same eventId in the envelope) is deduplicated where a copy did arrive.
      const archived = this.accepted.map((listener) => listener(bus, event)).filter((p) => p !== undefined);
      const stored = Promise.all([...this.route(bus, event, now), ...archived]);
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
    return { detail };
  }

  /**
   * Matches `event` against the rules of `busName` (only those whose ARN is in `only`, when given: a
   * replay's FilterArns) and sends it to their targets.
   */
  route(
    busName: string,
    event: BusEventRecord,
    ingestedAt = this.clock.now(),
    only?: ReadonlySet<string>,
  ): Promise<void>[] {
    const durable: Promise<void>[] = [];
    let matchedAny = false;
    for (const rule of this.rules) {
      if (rule.busName !== busName || !rule.enabled) continue;
      if (only && !only.has(rule.arn)) continue;
      let matched = false;
      try {
        matched = rule.matches(event);
      } catch {
        matched = false;
      }
      if (!matched) continue;
      matchedAny = true;
      rule.targets.forEach((target, index) => {
        const key = `${event.id}/${rule.arn}/${target.id}/${index}`;
        const sent = this.deliver(key, rule, target, event, ingestedAt, 1);
        if (sent) durable.push(sent);
      });
    }
    if (!matchedAny) this.emit({ event, rule: '', targetArn: '', outcome: 'unmatched', attempt: 0 });
    return durable;
  }

  /** The target's input for `event`; undefined when its input transformer renders invalid JSON. */
  private render(
    rule: CompiledRule,
    target: RuleTarget,
    event: BusEventRecord,
    ingestedAt: number,
  ): string | undefined {
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

  /** Sends the event to one target; resolves once the message (or the retry, or the dead letter) is durable. */
  private deliver(
    key: string,
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
      let body: string | undefined;
      try {
        body = this.render(rule, target, event, ingestedAt);
      } catch (error) {
        throw Object.assign(
          new Error(
            `The target input could not be rendered: ${(error as Error).message}. The event's detail is likely nested too deeply.`,
          ),
          { code: 'InputTransformationFailed' },
        );
      }
      if (body === undefined) {
        // EventBridge does not deliver (nor retry) an input its transformer turned into invalid JSON.
        this.settled(key);
        this.emit({
          event,
          rule: rule.name,
          targetArn: target.arn,
          outcome: 'dropped',
          attempt,
          error: `the InputTemplate of target ${target.id} rendered text that is not valid JSON; EventBridge does not deliver it`,
        });
        return undefined;
      }
      const size = Buffer.byteLength(body);
      if (size > queue.config.maximumMessageSize)
        throw Object.assign(
          new Error(
            `The message for this target is ${size} bytes (the event as the rule's input renders it); the queue takes at most ${queue.config.maximumMessageSize} bytes.`,
          ),
          { code: 'SQS.InvalidParameterValue' },
        );
      const { durable } = queue.send({ body });
      this.settled(key);
      this.emit({ event, rule: rule.name, targetArn: target.arn, outcome: 'delivered', attempt });
      return durable;
    } catch (error) {
      return this.failed(key, rule, target, event, ingestedAt, attempt, error as Error & { code?: string });
    }
  }

  /** Forgets a journaled retry once its delivery is done (delivered, dead-lettered or dropped). */
  private settled(key: string): void {
    if (!this.pending.delete(key)) return;
    this.journal?.append({ t: 'done', key });
  }

  private schedule(
    key: string,
    rule: CompiledRule,
    target: RuleTarget,
    event: BusEventRecord,
    ingestedAt: number,
    attempt: number,
    delay: number,
  ): void {
    const timer = this.clock.after(
      delay,
      () => {
        this.timers.delete(key);
        void this.deliver(key, rule, target, event, ingestedAt, attempt);
      },
      { unref: true },
    );
    this.timers.set(key, timer);
  }

  private failed(
    key: string,
    rule: CompiledRule,
    target: RuleTarget,
    event: BusEventRecord,
    ingestedAt: number,
    attempt: number,
    error: Error & { code?: string },
  ): Promise<void> | undefined {
    const policy = target.retryPolicy;
    const ageExhausted = this.clock.now() - ingestedAt >= policy.maximumEventAgeInSeconds * 1000;
    const retriesExhausted = attempt > policy.maximumRetryAttempts;
    const retriable = !NON_RETRIABLE.has(error.code ?? '');
    if (retriable && !ageExhausted && !retriesExhausted) {
      this.emit({
        event,
        rule: rule.name,
        targetArn: target.arn,
        outcome: 'retrying',
        attempt,
        error: error.message,
      });
      const delay = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      const { detail: _detail, ...rest } = event;
      const retry: PendingRetry = {
        key,
        busName: rule.busName,
        rule: rule.name,
        target: target.id,
        event: rest,
        detail: this.detailTexts.get(event) ?? detailJson(event.detail),
        ingestedAt,
        attempt: attempt + 1,
        dueAt: this.clock.now() + delay,
      };
      this.pending.set(key, retry);
      this.schedule(key, rule, target, event, ingestedAt, attempt + 1, delay);
      return this.journal?.appendDurable({ t: 'retry', retry });
    }
    this.settled(key);
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
      return undefined;
    }
    const str = (v: string) => ({ DataType: 'String', StringValue: v });
    const { durable } = dlq.send({
      body: eventJson(event, this.detailTexts.get(event)),
      attributes: {
        RULE_ARN: str(rule.arn),
        TARGET_ARN: str(target.arn),
        ERROR_CODE: str(error.code ?? 'Error'),
        ERROR_MESSAGE: str(error.message),
        // Set only when retries ran out; a non-retriable error goes to the DLQ without them.
        ...(retriable
          ? {
              EXHAUSTED_RETRY_CONDITION: str(
                ageExhausted ? 'MaximumEventAgeExhausted' : 'MaximumRetryAttemptsExhausted',
              ),
            }
          : {}),
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
    return durable;
  }

  close(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.journal?.close();
  }
}
