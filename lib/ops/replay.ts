/**
 * Replay a time window from the bus archive to chosen RPCs (EventBridge StartReplay), follow it, and
 * count what the workers did with the replayed events.
 *
 * - Which rules: from the plan, every rule that delivers a chosen event to a chosen RPC. StartReplay's
 *   `Destination.FilterArns` lists exactly those rules, so no other rule sees the replayed events; a rule
 *   delivers to all its targets (up to five RPCs of one service), so a chosen rule's other RPCs are
 *   named in the plan (`alsoReached`) and get the replay too, under the normal dedup.
 * - What runs: replayed events are the archived ones, unchanged (EventBridge adds `replay-name` to the
 *   envelope), so the worker's dedup decides: deliveries already COMPLETED are acknowledged without
 *   running ("skipped as completed"), DEAD ones too ("skipped as dead-lettered": their dead letter is in
 *   the DLQ with its reason; redrive it), every other one runs. With `rerunCompleted`, the chosen RPCs
 *   run every replayed delivery again, COMPLETED and DEAD ones included, as new attempts with a fresh
 *   budget, once per replay: the worker takes a replayed event for an operator re-run only when this
 *   replay's ops record (written here before StartReplay, partition `ops#replays`) names its RPC and says
 *   so (common/replays.ts).
 * - Counting: each worker adds the final outcome of every replayed message to the ops record
 *   (`completed#<rpc>`, `deadLettered#<rpc>`, `skippedCompleted#<rpc>`, `skippedDead#<rpc>`); a message
 *   that goes back to the queue is counted when it ends. So "replayed N, ran M, skipped K as completed"
 *   are the workers' own outcomes, not an estimate; messages still queued when the command stops
 *   waiting are reported as pending, and `event-router replay status <name>` reads the counts later.
 */
import { randomBytes } from 'node:crypto';
import {
  CancelReplayCommand,
  DescribeArchiveCommand,
  DescribeReplayCommand,
  type EventBridgeClient,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { REPLAY_PARTITION, type ReplayCounter } from '../../common/replays.ts';
import type { RouterSpec } from '../config/types.ts';
import { names } from '../naming.ts';
import { planRouter } from '../plan/plan.ts';
import type { AuditLog } from './audit.ts';
import { OpsError } from './errors.ts';

export type ReplayState = 'STARTING' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';

/** What the operator asks for. */
export interface ReplayRequest {
  readonly from: Date;
  readonly to: Date;
  /** Event names; default: every event delivered to the chosen RPCs. */
  readonly events?: readonly string[];
  /** RPC ids; default: every RPC receiving the chosen events. */
  readonly rpcs?: readonly string[];
  readonly rerunCompleted?: boolean;
  /** @default `<app>-<stage>-replay-<UTC time>-<4 hex>` */
  readonly name?: string;
}

/** What a replay will do, decided from the plan before anything is started. */
export interface ReplayPlan {
  readonly name: string;
  readonly archiveName: string;
  readonly busName: string;
  readonly from: string;
  readonly to: string;
  readonly events: readonly string[];
  readonly rpcs: readonly string[];
  /** The rules the replay is limited to, with the event and the RPCs each delivers to. */
  readonly rules: ReadonlyArray<{
    readonly name: string;
    readonly event: string;
    readonly rpcs: readonly string[];
  }>;
  /** RPCs not chosen that a chosen rule also delivers to (normal dedup, never a re-run). */
  readonly alsoReached: readonly string[];
  readonly rerunCompleted: boolean;
}

export interface ReplayCounts {
  readonly rpc: string;
  /** Replayed messages whose outcome is final. */
  readonly replayed: number;
  /** Ran (completed, or dead-lettered after running). */
  readonly ran: number;
  readonly completed: number;
  readonly deadLettered: number;
  readonly skippedCompleted: number;
  readonly skippedDead: number;
}

export interface ReplayStatus {
  readonly name: string;
  readonly state: ReplayState;
  readonly stateReason?: string;
  readonly from?: string;
  readonly to?: string;
  /** ISO time of the last event replayed so far. */
  readonly lastReplayed?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** Per RPC that counted a replayed message, the chosen RPCs first. */
  readonly counts: readonly ReplayCounts[];
  readonly rerunCompleted: boolean;
  readonly rpcs: readonly string[];
}

const COUNTERS: readonly ReplayCounter[] = ['completed', 'deadLettered', 'skippedCompleted', 'skippedDead'];
const TERMINAL: ReadonlySet<string> = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);
const RETENTION_SECONDS = 400 * 24 * 3600;

/** Parses `--from` / `--to`: an ISO instant, `now`, or a time ago (`15m`, `2h`, `1d`, also written `-2h`). */
export function parseWhen(text: string, now = Date.now()): Date | undefined {
  const t = text.trim();
  if (t === 'now') return new Date(now);
  const rel = /^-?(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(t);
  if (rel) {
    const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(rel[1]) * unit);
  }
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/** A fresh replay name: the router's replay-name prefix (the ops policy's), then the time. */
function defaultName(prefix: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]|\.\d{3}/g, '');
  return `${prefix}replay-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Decides the rules, RPCs and events of a replay from the router's plan (pure, no AWS calls). */
export function planReplay(spec: RouterSpec, request: ReplayRequest, now = new Date()): ReplayPlan {
  const problems: string[] = [];
  if (!(request.from.getTime() < request.to.getTime()))
    problems.push(
      `--from (${request.from.toISOString()}) must be before --to (${request.to.toISOString()}).`,
    );
  const plan = planRouter(spec);
  const knownEvents = new Set(spec.events.map((e) => e.name));
  const knownRpcs = new Set(plan.rpcs.map((r) => r.id));
  for (const e of request.events ?? [])
    if (!knownEvents.has(e))
      problems.push(`The router declares no event "${e}". Known: ${[...knownEvents].join(', ')}.`);
  for (const r of request.rpcs ?? [])
    if (!knownRpcs.has(r))
      problems.push(`The router has no RPC "${r}". Known: ${[...knownRpcs].join(', ')}.`);
  const name = request.name ?? defaultName(plan.replayNamePrefix, now);
  if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(name) || !name.startsWith(plan.replayNamePrefix))
    problems.push(
      `Replay name "${name}" is not valid: it starts with ${plan.replayNamePrefix} (the ops policy allows replays so named) and has at most 64 letters, digits, ".", "-" and "_".`,
    );
  if (problems.length > 0) throw new OpsError(problems.join('\n'));
  const eventOk = (e: string) => !request.events?.length || request.events.includes(e);
  const rpcOk = (r: string) => !request.rpcs?.length || request.rpcs.includes(r);
  const rules = plan.rules
    .filter((rule) => eventOk(rule.eventName) && rule.targets.some((t) => rpcOk(t.rpc)))
    .map((rule) => ({ name: rule.name, event: rule.eventName, rpcs: rule.targets.map((t) => t.rpc) }));
  if (rules.length === 0)
    throw new OpsError(
      `No subscription delivers ${request.events?.length ? request.events.join(', ') : 'any event'} to ${request.rpcs?.length ? request.rpcs.join(', ') : 'any RPC'}: nothing to replay.`,
    );
  const rpcs = [...new Set(rules.flatMap((r) => r.rpcs).filter(rpcOk))];
  const alsoReached = [...new Set(rules.flatMap((r) => r.rpcs).filter((r) => !rpcOk(r)))];
  return {
    name,
    archiveName: plan.core.archiveName,
    busName: plan.core.busName,
    from: request.from.toISOString(),
    to: request.to.toISOString(),
    events: [...new Set(rules.map((r) => r.event))],
    rpcs,
    rules,
    alsoReached,
    rerunCompleted: request.rerunCompleted === true,
  };
}

/** One line of counts: "replayed N, ran M, skipped K as completed[, D as dead-lettered]". */
export function countsLine(c: Omit<ReplayCounts, 'rpc'>): string {
  const dead = c.skippedDead > 0 ? `, ${c.skippedDead} as dead-lettered (redrive their dead letters)` : '';
  const failed = c.deadLettered > 0 ? ` (${c.deadLettered} of them dead-lettered)` : '';
  return `replayed ${c.replayed}, ran ${c.ran}${failed}, skipped ${c.skippedCompleted} as completed${dead}`;
}

/** Sums the counts of several RPCs. */
export function totalCounts(counts: readonly ReplayCounts[]): Omit<ReplayCounts, 'rpc'> {
  const sum = (k: keyof Omit<ReplayCounts, 'rpc'>) => counts.reduce((n, c) => n + c[k], 0);
  return {
    replayed: sum('replayed'),
    ran: sum('ran'),
    completed: sum('completed'),
    deadLettered: sum('deadLettered'),
    skippedCompleted: sum('skippedCompleted'),
    skippedDead: sum('skippedDead'),
  };
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : undefined);

/** The replays of one router. */
export class Replays {
  constructor(
    private readonly spec: RouterSpec,
    private readonly events: EventBridgeClient,
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly audit: AuditLog,
    private readonly whoami: () => Promise<string>,
  ) {}

  /**
   * Records the replay's ops record, then starts it (StartReplay limited to the plan's rules), and
   * audits the start (or the refusal).
   */
  async start(plan: ReplayPlan): Promise<ReplayStatus> {
    const who = await this.whoami();
    const what = `replay ${plan.name}: ${plan.events.join(', ')} from ${plan.from} to ${plan.to}${plan.rerunCompleted ? ', rerunning completed deliveries' : ''}`;
    const audited = (outcome: 'ok' | 'failed', detail: string) =>
      this.audit.record({
        who,
        action: 'replay',
        rpc: plan.rpcs.join(', '),
        what,
        count: 0,
        outcome,
        detail,
      });
    try {
      const { ArchiveArn, EventSourceArn } = await this.events.send(
        new DescribeArchiveCommand({ ArchiveName: plan.archiveName }),
      );
      if (!ArchiveArn || !EventSourceArn)
        throw new Error(`DescribeArchive of ${plan.archiveName} named no ARN.`);
      // arn:<partition>:events:<region>:<account>:archive/<name> -> the rules' ARN prefix
      const prefix = ArchiveArn.slice(0, ArchiveArn.indexOf(':archive/'));
      const filterArns = plan.rules.map((r) => `${prefix}:rule/${plan.busName}/${r.name}`);
      const now = Date.now();
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            eventId: REPLAY_PARTITION,
            rpc: plan.name,
            kind: 'replay',
            rpcs: [...plan.rpcs],
            rerunCompleted: plan.rerunCompleted,
            events: [...plan.events],
            rules: plan.rules.map((r) => r.name),
            from: plan.from,
            to: plan.to,
            by: who,
            createdAt: now,
            expiresAt: Math.floor(now / 1000) + RETENTION_SECONDS,
          },
          // A replay name is used once: never overwrite another replay's record.
          ConditionExpression: 'attribute_not_exists(eventId)',
        }),
      );
      await this.events.send(
        new StartReplayCommand({
          ReplayName: plan.name,
          Description: `event-router replay by ${who}`.slice(0, 512),
          EventSourceArn: ArchiveArn,
          EventStartTime: new Date(plan.from),
          EventEndTime: new Date(plan.to),
          Destination: { Arn: EventSourceArn, FilterArns: filterArns },
        }),
      );
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      await audited('failed', reason);
      if ((error as Error).name === 'ConditionalCheckFailedException')
        throw new OpsError(`A replay named ${plan.name} was recorded before; choose another name.`, 409);
      throw new OpsError(`The replay could not be started: ${reason}`, 409);
    }
    await audited(
      'ok',
      `started; rules ${plan.rules.map((r) => r.name).join(', ')}${plan.alsoReached.length ? `; also reaches ${plan.alsoReached.join(', ')}` : ''}`,
    );
    return this.status(plan.name);
  }

  /** The replay's state (DescribeReplay) and the workers' counts (the ops record, consistent read). */
  async status(name: string): Promise<ReplayStatus> {
    const [described, record] = await Promise.all([
      this.events.send(new DescribeReplayCommand({ ReplayName: name })),
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { eventId: REPLAY_PARTITION, rpc: name },
          ConsistentRead: true,
        }),
      ),
    ]);
    const item = (record.Item ?? {}) as Record<string, unknown>;
    const chosen = Array.isArray(item.rpcs) ? (item.rpcs as string[]) : [];
    const rpcs = new Set(chosen);
    for (const key of Object.keys(item)) {
      const [counter, rpc] = [key.slice(0, key.indexOf('#')), key.slice(key.indexOf('#') + 1)];
      if ((COUNTERS as readonly string[]).includes(counter) && rpc) rpcs.add(rpc);
    }
    const counts = [...rpcs].map((rpc) => {
      const n = (c: ReplayCounter) => Number(item[`${c}#${rpc}`] ?? 0);
      const completed = n('completed');
      const deadLettered = n('deadLettered');
      const skippedCompleted = n('skippedCompleted');
      const skippedDead = n('skippedDead');
      return {
        rpc,
        replayed: completed + deadLettered + skippedCompleted + skippedDead,
        ran: completed + deadLettered,
        completed,
        deadLettered,
        skippedCompleted,
        skippedDead,
      };
    });
    const state = (described.State ?? 'FAILED') as ReplayState;
    return {
      name,
      state,
      ...(described.StateReason ? { stateReason: described.StateReason } : {}),
      ...(described.EventStartTime ? { from: iso(described.EventStartTime) } : {}),
      ...(described.EventEndTime ? { to: iso(described.EventEndTime) } : {}),
      ...(described.EventLastReplayedTime ? { lastReplayed: iso(described.EventLastReplayedTime) } : {}),
      ...(described.ReplayStartTime ? { startedAt: iso(described.ReplayStartTime) } : {}),
      ...(described.ReplayEndTime ? { endedAt: iso(described.ReplayEndTime) } : {}),
      counts,
      rerunCompleted: item.rerunCompleted === true,
      rpcs: chosen,
    };
  }

  /**
   * Polls the replay until it ends, then waits (at most `settleMs`) until the workers are done with
   * it: `pending()` (messages still in the RPCs' queues) is 0 and the counts stopped changing.
   */
  async follow(
    name: string,
    options: {
      readonly onProgress?: (status: ReplayStatus) => void;
      readonly pending?: () => Promise<number>;
      readonly pollMs?: number;
      readonly settleMs?: number;
      readonly signal?: AbortSignal;
    } = {},
  ): Promise<ReplayStatus & { readonly pending: number }> {
    const pollMs = options.pollMs ?? 1000;
    const sleep = () => new Promise((resolve) => setTimeout(resolve, pollMs));
    let status = await this.status(name);
    options.onProgress?.(status);
    while (!TERMINAL.has(status.state) && !options.signal?.aborted) {
      await sleep();
      status = await this.status(name);
      options.onProgress?.(status);
    }
    const until = Date.now() + (options.settleMs ?? 60_000);
    let pending = options.pending ? await options.pending() : 0;
    let last = JSON.stringify(status.counts);
    let quiet = 0;
    while (!options.signal?.aborted && Date.now() < until) {
      if (pending === 0 && ++quiet >= 2) break;
      await sleep();
      status = await this.status(name);
      options.onProgress?.(status);
      pending = options.pending ? await options.pending() : 0;
      const now = JSON.stringify(status.counts);
      if (now !== last) quiet = 0;
      last = now;
    }
    return { ...status, pending };
  }

  /** Audits how the replay ended (its counts), once the operator has followed it. */
  async recordEnd(status: ReplayStatus & { readonly pending: number }): Promise<void> {
    const total = totalCounts(status.counts);
    await this.audit.record({
      who: await this.whoami(),
      action: 'replay',
      rpc: status.rpcs.join(', '),
      what: `replay ${status.name}: from ${status.from ?? '?'} to ${status.to ?? '?'}${status.rerunCompleted ? ', rerunning completed deliveries' : ''}`,
      count: total.replayed,
      outcome:
        status.state === 'COMPLETED' && status.pending === 0
          ? 'ok'
          : status.state === 'FAILED'
            ? 'failed'
            : 'partial',
      detail: `${status.state}${status.stateReason ? ` (${status.stateReason})` : ''}: ${countsLine(total)}${status.pending ? `; ${status.pending} message(s) still queued` : ''}`,
    });
  }

  /** Cancels a running replay (what it replayed stays replayed); audited. */
  async cancel(name: string): Promise<ReplayState> {
    const who = await this.whoami();
    try {
      const { State } = await this.events.send(new CancelReplayCommand({ ReplayName: name }));
      await this.audit.record({
        who,
        action: 'replay',
        rpc: '',
        what: `cancel of replay ${name}`,
        count: 0,
        outcome: 'ok',
        detail: `state ${State}`,
      });
      return (State ?? 'CANCELLING') as ReplayState;
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      await this.audit.record({
        who,
        action: 'replay',
        rpc: '',
        what: `cancel of replay ${name}`,
        count: 0,
        outcome: 'failed',
        detail: reason,
      });
      throw new OpsError(`Replay ${name} could not be cancelled: ${reason}`, 409);
    }
  }

  /** The names of the router's RPC queues a replay of `rpcs` delivers to (for `pending`). */
  queueNames(rpcs: readonly string[]): string[] {
    const ctx = { app: this.spec.app.name, stage: this.spec.app.stage };
    return rpcs.map((rpc) => names.queueName(ctx, rpc));
  }
}
