/**
 * Event archives and replays, as EventBridge keeps and runs them.
 *
 * An archive (from the templates' `AWS::Events::Archive`, or CreateArchive) keeps every event
 * accepted on its source bus that matches its EventPattern, for `RetentionDays` (0: forever), judged
 * from the time it was archived. Archived events are journaled (`archives.journal` in the state
 * directory) before PutEvents answers, so an accepted event is archived even if the process is killed
 * right after; expired ones are dropped when the journal is compacted.
 *
 * A replay (StartReplay) sends the archived events whose `time` lies in
 * `[EventStartTime, EventEndTime)` back to the archive's bus, in time order, each with the field
 * `replay-name` added to the event envelope (as EventBridge does), and only to the rules named in
 * `Destination.FilterArns` (all the bus's rules when none are named); the rules' patterns still apply.
 * It goes STARTING -> RUNNING -> COMPLETED (or CANCELLING -> CANCELLED on CancelReplay, or FAILED);
 * `EventLastReplayedTime` is the time of the last event sent. A replay is journaled with its state; one
 * the runtime was stopped in the middle of is FAILED after a restart, with the reason. Replayed events
 * are not archived again.
 *
 * Request and response shapes and error codes and messages follow the answers EventBridge gave in
 * LocalStack's AWS-validated snapshot tests (copied into test/conformance/eventbridge-replay-recorded.json).
 * Deliberately different from AWS: a replay runs as fast as the runtime delivers (AWS replays minute by
 * minute of event time and takes minutes); it stays STARTING for `startingMs` (250 ms by default) so a
 * CancelReplay right after the start finds it cancellable, as on AWS.
 */
import { join } from 'node:path';
import {
  compilePattern,
  invalidPatternMessage,
  type PatternMatcher,
  validatePattern,
} from '../../../patterns/index.ts';
import { type Clock, realClock } from '../../clock.ts';
import { Journal, type JournalRecord } from '../../store/journal.ts';
import { AwsError, eventsErrors } from '../aws-error.ts';
import type { BusEventRecord, EventBuses } from './bus.ts';

/** An archive as the templates declare it. */
export interface ArchiveDefinition {
  readonly name: string;
  /** The ARN of the source bus. */
  readonly sourceArn: string;
  readonly pattern?: unknown;
  /** Days events are kept; 0 or absent: forever. */
  readonly retentionDays?: number;
  readonly description?: string;
}

export type ReplayState = 'STARTING' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';

interface Replay {
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  readonly archive: string;
  readonly sourceArn: string;
  readonly destinationArn: string;
  readonly filterArns: readonly string[];
  /** Epoch ms. */
  readonly eventStartTime: number;
  readonly eventEndTime: number;
  readonly replayStartTime: number;
  state: ReplayState;
  stateReason?: string;
  eventLastReplayedTime?: number;
  replayEndTime?: number;
}

interface Archive extends ArchiveDefinition {
  readonly arn: string;
  readonly busName: string;
  readonly creationTime: number;
  readonly matches: PatternMatcher | undefined;
  /** Archived events with the epoch ms they were archived, in arrival order. */
  readonly events: Array<{ readonly at: number; readonly event: BusEventRecord }>;
  /** Created through CreateArchive (journaled) rather than declared in the templates. */
  readonly created: boolean;
}

/** EventBridge: at most 10 replays in STARTING, RUNNING or CANCELLING at once per account and Region. */
export const MAX_ACTIVE_REPLAYS = 10;
const NAME = /^[.\-_A-Za-z0-9]+$/;
const DAY_MS = 86_400_000;
const ACTIVE: ReadonlySet<ReplayState> = new Set(['STARTING', 'RUNNING', 'CANCELLING']);

/** JSON 1.1 timestamps: epoch seconds. */
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function timestamp(value: unknown, field: string): number {
  const ms =
    typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw eventsErrors.validation(
      `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
    );
  return ms;
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The event as a replay sends it: `replay-name` added to the envelope, after `region` as AWS puts it. */
export function replayedEvent(event: BusEventRecord, replayName: string): BusEventRecord {
  const { resources, detail, ...head } = event;
  return { ...head, 'replay-name': replayName, resources, detail } as BusEventRecord;
}

export class EventArchives {
  private readonly archives = new Map<string, Archive>();
  private readonly replays = new Map<string, Replay>();
  private readonly clock: Clock;
  private readonly journal: Journal | undefined;
  private readonly restored: JournalRecord[] = [];
  private closed = false;

  constructor(
    private readonly buses: EventBuses,
    private readonly region: string,
    private readonly account: string,
    stateDir?: string,
    private readonly options: {
      readonly startingMs?: number;
      /** The runtime's clock (archive and replay times, the STARTING pause). @default realClock */
      readonly clock?: Clock;
    } = {},
  ) {
    this.clock = options.clock ?? realClock;
    if (stateDir) {
      const { journal, records } = Journal.open(join(stateDir, 'archives.journal'));
      this.journal = journal;
      this.restored = records;
    }
    buses.onAccepted((bus, event) => this.archive(bus, event));
  }

  archiveArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.account}:archive/${name}`;
  }

  replayArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.account}:replay/${name}`;
  }

  /**
   * Defines the templates' archives (on start and on reload; archived events of an archive that
   * stays are kept). The first call also restores the journal.
   */
  configure(definitions: readonly ArchiveDefinition[]): void {
    for (const d of definitions) if (!this.archives.has(d.name)) this.define(d, this.clock.now());
    if (this.restored.length === 0) return;
    const now = this.clock.now();
    for (const r of this.restored.splice(0)) {
      if (r.t === 'archive') {
        const d = r.archive as ArchiveDefinition;
        if (!this.archives.has(d.name)) this.define(d, Number(r.at), true);
      } else if (r.t === 'event') {
        const archive = this.archives.get(String(r.archive));
        if (archive && !this.expired(archive, Number(r.at), now))
          archive.events.push({ at: Number(r.at), event: r.event as BusEventRecord });
      } else if (r.t === 'replay') {
        const replay = r.replay as Replay;
        if (ACTIVE.has(replay.state)) {
          replay.state = 'FAILED';
          replay.stateReason =
            'The local runtime stopped while the replay ran; start a new replay for the rest of the window.';
        }
        this.replays.set(replay.name, replay);
      }
    }
    this.journal?.compact(() => this.snapshot());
  }

  /** Defines an archive; one created through the API (`created`) is journaled, the templates' are not. */
  private define(d: ArchiveDefinition, now: number, created = false): Archive {
    const busName = d.sourceArn.split('/').pop() ?? 'default';
    const archive: Archive = {
      ...d,
      arn: this.archiveArn(d.name),
      busName,
      creationTime: now,
      matches: d.pattern === undefined || d.pattern === null ? undefined : compilePattern(d.pattern),
      events: [],
      created,
    };
    this.archives.set(d.name, archive);
    return archive;
  }

  private expired(archive: Archive, at: number, now: number): boolean {
    return (archive.retentionDays ?? 0) > 0 && now - at > (archive.retentionDays ?? 0) * DAY_MS;
  }

  private *snapshot(): Iterable<JournalRecord> {
    const now = this.clock.now();
    for (const archive of this.archives.values()) {
      if (archive.created) {
        const {
          arn: _a,
          busName: _b,
          creationTime,
          matches: _m,
          events: _e,
          created: _c,
          ...definition
        } = archive;
        yield { t: 'archive', archive: definition, at: creationTime };
      }
      for (const e of archive.events)
        if (!this.expired(archive, e.at, now))
          yield { t: 'event', archive: archive.name, at: e.at, event: e.event };
    }
    for (const replay of this.replays.values()) yield { t: 'replay', replay };
  }

  /** Archives an event accepted on `bus` in every archive of that bus whose pattern matches it. */
  private archive(bus: string, event: BusEventRecord): Promise<void> | undefined {
    if ('replay-name' in event) return undefined;
    const durable: Promise<void>[] = [];
    const now = this.clock.now();
    for (const archive of this.archives.values()) {
      if (archive.busName !== bus) continue;
      let matched = true;
      try {
        matched = archive.matches ? archive.matches(event) : true;
      } catch {
        matched = false;
      }
      if (!matched) continue;
      archive.events.push({ at: now, event });
      const record = { t: 'event', archive: archive.name, at: now, event };
      if (this.journal) durable.push(this.journal.appendDurable(record));
    }
    return durable.length > 0 ? Promise.all(durable).then(() => undefined) : undefined;
  }

  private archiveNamed(name: unknown): Archive {
    const archive = typeof name === 'string' ? this.archives.get(name) : undefined;
    if (!archive) throw eventsErrors.resourceNotFound(`Archive ${String(name)} does not exist.`);
    return archive;
  }

  private describeArchiveOf(a: Archive) {
    return withoutUndefined({
      ArchiveArn: a.arn,
      ArchiveName: a.name,
      EventSourceArn: a.sourceArn,
      Description: a.description,
      EventPattern: a.pattern === undefined ? undefined : JSON.stringify(a.pattern),
      State: 'ENABLED',
      RetentionDays: a.retentionDays ?? 0,
      SizeBytes: a.events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e.event)), 0),
      EventCount: a.events.length,
      CreationTime: seconds(a.creationTime),
    });
  }

  /** The EventBridge operations on archives and replays, by name. */
  operations(): Record<string, (input: Record<string, unknown>) => unknown> {
    return {
      CreateArchive: (input) => {
        const name = input.ArchiveName;
        if (typeof name !== 'string' || !NAME.test(name) || name.length > 48)
          throw eventsErrors.validation('Parameter ArchiveName is not valid.');
        if (this.archives.has(name)) throw resourceAlreadyExists(`Archive ${name} already exists.`);
        const sourceArn = String(input.EventSourceArn ?? '');
        const bus = sourceArn.split('/').pop() ?? '';
        if (!this.buses.busNames().includes(bus))
          throw eventsErrors.resourceNotFound(`Event bus ${bus} does not exist.`);
        let pattern: unknown;
        if (input.EventPattern !== undefined) {
          try {
            pattern = JSON.parse(String(input.EventPattern));
          } catch {
            throw eventsErrors.invalidEventPattern(
              'Event pattern is not valid. Reason: Filter is not valid JSON.',
            );
          }
          const problems = validatePattern(pattern);
          if (problems.length > 0) throw eventsErrors.invalidEventPattern(invalidPatternMessage(problems));
        }
        const archive = this.define(
          withoutUndefined({
            name,
            sourceArn,
            pattern,
            retentionDays: typeof input.RetentionDays === 'number' ? input.RetentionDays : undefined,
            description: typeof input.Description === 'string' ? input.Description : undefined,
          }),
          this.clock.now(),
          true,
        );
        const {
          arn: _a,
          busName: _b,
          matches: _m,
          events: _e,
          created: _c,
          creationTime,
          ...definition
        } = archive;
        this.journal?.append({ t: 'archive', archive: definition, at: creationTime });
        return { ArchiveArn: archive.arn, State: 'ENABLED', CreationTime: seconds(archive.creationTime) };
      },
      DescribeArchive: (input) => this.describeArchiveOf(this.archiveNamed(input.ArchiveName)),
      ListArchives: (input) => {
        const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
        const source = typeof input.EventSourceArn === 'string' ? input.EventSourceArn : undefined;
        if (source !== undefined && !this.buses.busNames().includes(source.split('/').pop() ?? ''))
          throw eventsErrors.resourceNotFound(`Event bus ${source.split('/').pop()} does not exist.`);
        return {
          Archives: [...this.archives.values()]
            .filter((a) => a.name.startsWith(prefix) && (source === undefined || a.sourceArn === source))
            .map((a) => {
              const {
                ArchiveArn: _arn,
                Description: _d,
                EventPattern: _p,
                ...rest
              } = this.describeArchiveOf(a);
              return rest;
            }),
        };
      },
      StartReplay: (input) => this.start(input),
      DescribeReplay: (input) => {
        const r = this.replayNamed(input.ReplayName);
        return withoutUndefined({
          ReplayName: r.name,
          ReplayArn: r.arn,
          Description: r.description,
          State: r.state,
          StateReason: r.stateReason,
          EventSourceArn: r.sourceArn,
          Destination: {
            Arn: r.destinationArn,
            ...(r.filterArns.length ? { FilterArns: [...r.filterArns] } : {}),
          },
          EventStartTime: seconds(r.eventStartTime),
          EventEndTime: seconds(r.eventEndTime),
          EventLastReplayedTime: seconds(r.eventLastReplayedTime),
          ReplayStartTime: seconds(r.replayStartTime),
          ReplayEndTime: seconds(r.replayEndTime),
        });
      },
      ListReplays: (input) => {
        const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
        const state = typeof input.State === 'string' ? input.State : undefined;
        const source = typeof input.EventSourceArn === 'string' ? input.EventSourceArn : undefined;
        const all = [...this.replays.values()].filter(
          (r) =>
            r.name.startsWith(prefix) &&
            (state === undefined || r.state === state) &&
            (source === undefined || r.sourceArn === source),
        );
        const offset = Number(input.NextToken ?? 0) || 0;
        const limit = typeof input.Limit === 'number' && input.Limit > 0 ? input.Limit : 100;
        const page = all.slice(offset, offset + limit);
        return withoutUndefined({
          Replays: page.map((r) =>
            withoutUndefined({
              ReplayName: r.name,
              EventSourceArn: r.sourceArn,
              State: r.state,
              StateReason: r.stateReason,
              EventStartTime: seconds(r.eventStartTime),
              EventEndTime: seconds(r.eventEndTime),
              EventLastReplayedTime: seconds(r.eventLastReplayedTime),
              ReplayStartTime: seconds(r.replayStartTime),
              ReplayEndTime: seconds(r.replayEndTime),
            }),
          ),
          NextToken: offset + limit < all.length ? String(offset + limit) : undefined,
        });
      },
      CancelReplay: (input) => {
        const r = this.replayNamed(input.ReplayName);
        if (r.state !== 'STARTING' && r.state !== 'RUNNING')
          throw new AwsError(
            'IllegalStatusException',
            `Replay ${r.name} is not in a valid state for this operation.`,
          );
        this.setState(r, 'CANCELLING');
        return { ReplayArn: r.arn, State: r.state };
      },
    };
  }

  private replayNamed(name: unknown): Replay {
    const replay = typeof name === 'string' ? this.replays.get(name) : undefined;
    if (!replay) throw eventsErrors.resourceNotFound(`Replay ${String(name)} does not exist.`);
    return replay;
  }

  private setState(r: Replay, state: ReplayState, reason?: string): void {
    r.state = state;
    if (reason !== undefined) r.stateReason = reason;
    if (state === 'COMPLETED' || state === 'CANCELLED' || state === 'FAILED')
      r.replayEndTime = this.clock.now();
    this.journal?.append({ t: 'replay', replay: r });
  }

  private start(input: Record<string, unknown>) {
    const name = input.ReplayName;
    if (typeof name !== 'string' || name.length === 0 || name.length > 64 || !NAME.test(name))
      throw eventsErrors.validation(
        `1 validation error detected: Value '${String(name)}' at 'replayName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
      );
    if (this.replays.has(name)) throw resourceAlreadyExists(`Replay ${name} already exists.`);
    const sourceArn = String(input.EventSourceArn ?? '');
    const archive = this.archives.get(sourceArn.split('/').pop() ?? '');
    if (!archive || archive.arn !== sourceArn)
      throw eventsErrors.validation(
        `Parameter EventSourceArn is not valid. Reason: Archive ${sourceArn.split('/').pop()} does not exist.`,
      );
    const destination = (input.Destination ?? {}) as { Arn?: unknown; FilterArns?: unknown };
    const destinationArn = String(destination.Arn ?? '');
    const bus = destinationArn.split('/').pop() ?? '';
    if (!this.buses.busNames().includes(bus))
      throw eventsErrors.resourceNotFound(`Event bus ${bus} does not exist.`);
    if (destinationArn !== archive.sourceArn)
      throw eventsErrors.validation(
        'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.',
      );
    const filterArns = Array.isArray(destination.FilterArns) ? destination.FilterArns.map(String) : [];
    const known = new Set(
      this.buses
        .ruleList()
        .filter((r) => r.busName === bus)
        .map((r) => this.buses.ruleArn(bus, r.name)),
    );
    const unknown = filterArns.filter((arn) => !known.has(arn));
    if (unknown.length > 0)
      throw eventsErrors.validation(
        `Parameter Destination.FilterArns is not valid. Reason: Rule ${unknown.join(', ')} does not exist on event bus ${bus}.`,
      );
    const eventStartTime = timestamp(input.EventStartTime, 'EventStartTime');
    const eventEndTime = timestamp(input.EventEndTime, 'EventEndTime');
    if (eventStartTime >= eventEndTime)
      throw eventsErrors.validation(
        'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.',
      );
    if ([...this.replays.values()].filter((r) => ACTIVE.has(r.state)).length >= MAX_ACTIVE_REPLAYS)
      throw new AwsError(
        'LimitExceededException',
        'The requested resource exceeds the maximum number allowed.',
      );
    const replay: Replay = {
      name,
      arn: this.replayArn(name),
      ...(typeof input.Description === 'string' ? { description: input.Description } : {}),
      archive: archive.name,
      sourceArn,
      destinationArn,
      filterArns,
      eventStartTime,
      eventEndTime,
      replayStartTime: this.clock.now(),
      state: 'STARTING',
    };
    this.replays.set(name, replay);
    this.journal?.append({ t: 'replay', replay });
    void this.run(replay, archive).catch((error: Error) => this.setState(replay, 'FAILED', error.message));
    return { ReplayArn: replay.arn, State: replay.state, ReplayStartTime: seconds(replay.replayStartTime) };
  }

  private async run(replay: Replay, archive: Archive): Promise<void> {
    await new Promise<void>((resolve) =>
      this.clock.after(this.options.startingMs ?? 250, resolve, { unref: true }),
    );
    // Stopped meanwhile: the journal keeps it active, so the next start reports it FAILED.
    if (this.closed) return;
    const cancelled = () => {
      if (this.closed) return true;
      if (replay.state !== 'CANCELLING') return false;
      this.setState(replay, 'CANCELLED');
      return true;
    };
    if (cancelled()) return;
    this.setState(replay, 'RUNNING');
    const only = new Set(replay.filterArns);
    const chosen = archive.events
      .map((e) => ({ ...e, time: Date.parse(e.event.time) }))
      .filter((e) => e.time >= replay.eventStartTime && e.time < replay.eventEndTime)
      .sort((a, b) => a.time - b.time);
    for (const e of chosen) {
      if (cancelled()) return;
      await Promise.all(
        this.buses.route(
          archive.busName,
          replayedEvent(e.event, replay.name),
          this.clock.now(),
          only.size ? only : undefined,
        ),
      );
      replay.eventLastReplayedTime = e.time;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (cancelled()) return;
    this.setState(replay, 'COMPLETED');
  }

  close(): void {
    this.closed = true;
    this.journal?.close();
  }
}

function resourceAlreadyExists(message: string): AwsError {
  return new AwsError('ResourceAlreadyExistsException', message);
}
