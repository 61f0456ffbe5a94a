/**
 * The local runtime: one server on 127.0.0.1 running what a cloud assembly (`cdk.out`) declares:
 * queues, buses, rules, tables, functions, event source mappings and REST API routes, with state
 * kept in a directory (or in memory). `reload()` re-reads the assembly without losing messages.
 */
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { ENV } from '../../../common/contracts.ts';
import type { Graph } from '../../plan/graph.ts';
import { buildModel, LOCAL_ACCOUNT, LOCAL_REGION, type LocalModel } from '../assembly/model.ts';
import { readCloudAssembly } from '../assembly/template.ts';
import type { Clock } from '../clock.ts';
import { type DeliveryLog, SqsPoller } from '../lambda/poller.ts';
import { FunctionRunner } from '../lambda/runner.ts';
import { ApiGateway, type ApiRequestLog } from '../services/apigateway.ts';
import { LocalDynamoDb } from '../services/dynamodb/dynamodb.ts';
import { createEventsApi } from '../services/eventbridge/api.ts';
import { EventArchives } from '../services/eventbridge/archives.ts';
import { EventBuses, type RouteLog } from '../services/eventbridge/bus.ts';
import { createSqsApi } from '../services/sqs/api.ts';
import { MoveTasks } from '../services/sqs/move-tasks.ts';
import type { Message, Queue } from '../services/sqs/queue.ts';
import { QueueStore } from '../services/sqs/store.ts';
import { lockStateDir } from '../store/lock.ts';
import { EventLog } from './event-log.ts';
import type { RequestCounter } from './request-counter.ts';
import { createRuntimeServer, listen } from './server.ts';
import { type RuntimeFacts, StatusEndpoints } from './status.ts';

/** Where the runtime's lines go; every method is optional. */
export interface RuntimeEvents {
  delivery?(log: DeliveryLog): void;
  route?(log: RouteLog): void;
  deadLettered?(message: Message, from: Queue, to: Queue): void;
  api?(log: ApiRequestLog): void;
  functionOutput?(functionName: string, stream: 'stdout' | 'stderr', line: string): void;
  error?(error: unknown): void;
}

export interface RuntimeOptions {
  /** Cloud assembly directory. */
  readonly cdkOut: string;
  /** @default 4010; 0 picks a free port. */
  readonly port?: number;
  /** @default '.event-router' */
  readonly stateDir?: string;
  /** Keep all state in memory (tests). @default false */
  readonly inMemory?: boolean;
  /** Seconds before a failed message is retried; undefined keeps the queue's visibility timeout. */
  readonly retryDelaySeconds?: number;
  /** How long a replay stays STARTING before it sends events (a CancelReplay meanwhile cancels it). @default 250 */
  readonly replayStartingMs?: number;
  /** Region and account when the stacks are environment-agnostic. */
  readonly region?: string;
  readonly account?: string;
  readonly events?: RuntimeEvents;
  /** Counts the AWS requests served (benchmarks; see request-counter.ts). */
  readonly requestCounter?: RequestCounter;
  /**
   * The project directory: the paths in a failed attempt's stack are shown relative to it.
   * @default the current directory
   */
  readonly projectRoot?: string;
  /**
   * The time queues, long polls, batching windows, move tasks and EventBridge retries run on; tests
   * hand in a clock they move themselves. Functions' timeouts keep real time.
   * @default realClock (lib/local/clock.ts)
   */
  readonly clock?: Clock;
}

/** Serves a non-AWS request; resolves false when it is not its own. */
/** A mounted handler; `body` is the request body, which the runtime has already read. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;

/** Default port of `event-router dev`. */
export const DEFAULT_PORT = 4010;

export class LocalRuntime {
  readonly url: string;
  readonly port: number;
  readonly store: QueueStore;
  readonly buses: EventBuses;
  readonly archives: EventArchives;
  model: LocalModel;
  /**
   * The router's graph (lib/plan/graph.ts) as it runs now, for the status endpoint and the dashboard.
   * The templates do not carry it: whoever synthesized them sets it, at start and after each reload.
   */
  graph: Graph | undefined;
  /** Recent events with their payloads, follow-ups and worker log lines (the dashboard's delivery view). */
  readonly eventLog: EventLog;
  /**
   * Messages restored in flight (received when the runtime last stopped without handing them back,
   * e.g. after `kill -9`): they become visible again when their visibility timeout ends, as on AWS.
   * Counted once, when the runtime starts.
   */
  recovered: { readonly messages: number; readonly firstVisibleAt: number | undefined } | undefined;
  private readonly server: Server;
  private readonly dynamodb: LocalDynamoDb;
  private readonly moveTasks: MoveTasks;
  private readonly api: ApiGateway;
  private runners = new Map<string, FunctionRunner>();
  private pollers: SqsPoller[] = [];
  private readonly options: RuntimeOptions;
  private baseEnv: Record<string, string> = {};
  private closed = false;
  private readonly unlock: () => void;
  private readonly status: StatusEndpoints;

  /** What only the runtime knows about itself (endpoint, region, buses, API routes, template problems). */
  facts(): RuntimeFacts | undefined {
    return this.status.facts();
  }
  private readonly mounted: HttpHandler[] = [];

  private constructor(parts: {
    options: RuntimeOptions;
    server: Server;
    port: number;
    store: QueueStore;
    dynamodb: LocalDynamoDb;
    buses: EventBuses;
    archives: EventArchives;
    moveTasks: MoveTasks;
    api: ApiGateway;
    model: LocalModel;
    unlock: () => void;
    status: StatusEndpoints;
    eventLog: EventLog;
  }) {
    this.eventLog = parts.eventLog;
    this.status = parts.status;
    this.unlock = parts.unlock;
    this.options = parts.options;
    this.server = parts.server;
    this.port = parts.port;
    this.url = `http://127.0.0.1:${parts.port}`;
    this.store = parts.store;
    this.dynamodb = parts.dynamodb;
    this.buses = parts.buses;
    this.archives = parts.archives;
    this.moveTasks = parts.moveTasks;
    this.api = parts.api;
    this.model = parts.model;
  }

  /** Starts the runtime: restores state, listens, then loads the assembly. */
  static async start(options: RuntimeOptions): Promise<LocalRuntime> {
    const events = options.events ?? {};
    const stateDir = options.inMemory ? undefined : resolve(options.stateDir ?? '.event-router');
    // Read the assembly first so a missing or broken cdk.out fails before anything starts.
    const assembly = readCloudAssembly(options.cdkOut);
    if (stateDir) mkdirSync(stateDir, { recursive: true });
    const unlock = stateDir ? lockStateDir(stateDir) : () => {};
    const region = assembly.stacks[0]?.region ?? options.region ?? LOCAL_REGION;
    const account = assembly.stacks[0]?.account ?? options.account ?? LOCAL_ACCOUNT;
    let baseUrl = '';
    const store = new QueueStore({
      stateDir,
      region,
      account,
      baseUrl: () => baseUrl,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    let dynamodb: LocalDynamoDb;
    try {
      dynamodb = await LocalDynamoDb.start(stateDir ? join(stateDir, 'dynamodb') : undefined);
    } catch (error) {
      store.close();
      unlock();
      throw new Error(
        `Could not open the DynamoDB state in ${stateDir}: ${(error as Error).message}. Is another \`event-router dev\` using this state directory?`,
      );
    }
    const buses = new EventBuses(store, region, account, stateDir);
    const archives = new EventArchives(buses, region, account, stateDir, {
      ...(options.replayStartingMs !== undefined ? { startingMs: options.replayStartingMs } : {}),
      clock: store.clock,
    });
    const moveTasks = new MoveTasks(store);
    let runtime: LocalRuntime | undefined;
    const api = new ApiGateway({
      account,
      invoke: (name, event) => {
        const runner = runtime?.runners.get(name);
        if (!runner)
          return Promise.resolve({
            ok: false,
            error: { name: 'ResourceNotFoundException', message: `Function not found: ${name}` },
            durationMs: 0,
            requestId: '',
          });
        return runner.invoke(event);
      },
      onRequest: (log) => events.api?.(log),
    });
    const status = new StatusEndpoints(() =>
      runtime ? { url: runtime.url, model: runtime.model, api } : undefined,
    );
    const sqsApi = createSqsApi(store, moveTasks);
    const eventsApi = createEventsApi(buses, archives);
    const server = createRuntimeServer({
      sqs: sqsApi,
      events: eventsApi,
      dynamodb: (req, res) => dynamodb.handle(req, res),
      http: async (req, res, body) =>
        (await api.handle(req, res, body)) ||
        (runtime ? await runtime.serveMounted(req, res, body) : false) ||
        status.handle(req, res),
      onError: (error) => events.error?.(error),
    });
    options.requestCounter?.attach(server);
    let port: number;
    try {
      port = await listen(server, options.port ?? DEFAULT_PORT);
    } catch (error) {
      store.close();
      await dynamodb.close();
      unlock();
      throw error;
    }
    baseUrl = `http://127.0.0.1:${port}`;
    store.onDeadLetter((message, from, to) => events.deadLettered?.(message, from, to));
    const eventLog = new EventLog();
    buses.onRoute((log) => {
      eventLog.noteRouted(log.event);
      events.route?.(log);
    });
    const model = buildModel(assembly, baseUrl);
    runtime = new LocalRuntime({
      options,
      server,
      port,
      store,
      dynamodb,
      buses,
      archives,
      moveTasks,
      api,
      model,
      unlock,
      status,
      eventLog,
    });
    try {
      await runtime.apply(model);
    } catch (error) {
      await runtime.close();
      throw error;
    }
    return runtime;
  }

  /** Messages in flight in any queue, and when the first of them becomes visible again. */
  private countInFlight(): { messages: number; firstVisibleAt: number | undefined } {
    let messages = 0;
    let firstVisibleAt: number | undefined;
    for (const queue of this.store.list()) {
      const inFlight = queue.counts().notVisible;
      if (inFlight === 0) continue;
      messages += inFlight;
      const at = queue.nextVisibleAt();
      if (at !== undefined && (firstVisibleAt === undefined || at < firstVisibleAt)) firstVisibleAt = at;
    }
    return { messages, firstVisibleAt };
  }

  /** Environment every function gets (the template's variables are added on top). */
  private functionBaseEnv(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_REGION: this.model.region,
      AWS_DEFAULT_REGION: this.model.region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      [ENV.projectRoot]: resolve(this.options.projectRoot ?? process.cwd()),
      // The event-router worker keeps each delivery's next attempt itself: it is told the dev retry delay.
      ...(this.options.retryDelaySeconds !== undefined
        ? { [ENV.retryDelaySeconds]: String(this.options.retryDelaySeconds) }
        : {}),
    };
  }

  private async apply(model: LocalModel): Promise<void> {
    this.model = model;
    this.baseEnv = this.functionBaseEnv();
    for (const config of model.queues) this.store.define(config);
    if (this.recovered === undefined) this.recovered = this.countInFlight();
    this.buses.configure(model.buses, model.rules);
    this.archives.configure(model.archives);
    await this.dynamodb.ensureTables(model.tables);
    const events = this.options.events ?? {};
    for (const fn of model.functions) {
      this.runners.set(
        fn.name,
        new FunctionRunner(fn, {
          baseEnv: this.baseEnv,
          onOutput: (name, stream, line) => {
            this.eventLog.noteOutput(name, line);
            events.functionOutput?.(name, stream, line);
          },
        }),
      );
    }
    for (const mapping of model.mappings) {
      const queue = this.store.byArn(mapping.queueArn);
      const runner = this.runners.get(mapping.functionName);
      if (!queue || !runner) {
        events.error?.(
          new Error(
            `Event source mapping ${mapping.id}: ${!queue ? `queue ${mapping.queueArn}` : `function ${mapping.functionName}`} is not in the templates; it is not polled.`,
          ),
        );
        continue;
      }
      const poller = new SqsPoller(mapping, queue, runner, {
        region: model.region,
        clock: this.store.clock,
        ...(this.options.retryDelaySeconds !== undefined
          ? { retryDelaySeconds: this.options.retryDelaySeconds }
          : {}),
        onDelivery: (log) => {
          events.delivery?.(log);
        },
      });
      this.pollers.push(poller);
      poller.start();
    }
    this.api.configure(model.apis);
  }

  /**
   * Stops pollers and functions. `drain` waits for the batches being handled (reload); otherwise
   * they are cut short and their messages made visible again at once (shutdown).
   */
  private async unapply(drain: boolean): Promise<void> {
    const pollers = this.pollers;
    this.pollers = [];
    if (!drain) {
      for (const poller of pollers) poller.halt();
      for (const runner of this.runners.values()) runner.close();
    }
    await Promise.all(pollers.map((p) => p.stop()));
    for (const runner of this.runners.values()) runner.close();
    this.runners.clear();
  }

  /** Re-reads the cloud assembly and restarts functions and pollers; queued messages stay. */
  async reload(): Promise<LocalModel> {
    const assembly = readCloudAssembly(this.options.cdkOut);
    const model = buildModel(assembly, this.url);
    await this.unapply(true);
    await this.apply(model);
    return model;
  }

  /**
   * Adds a handler for non-AWS requests (e.g. the dashboard); it runs after the API routes and
   * before the status endpoints, and answers false for requests that are not its own.
   */
  mount(handler: HttpHandler): void {
    this.mounted.push(handler);
  }

  private async serveMounted(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    for (const handler of this.mounted) if (await handler(req, res, body)) return true;
    return false;
  }

  /**
   * Runs the bundle in `codeDir` for function `name` from now on, without re-reading the templates
   * (the dev loop's reload of a rebuilt handler): its warm process is replaced, the invocations in
   * flight finish on the old code, queued messages stay. False when no such function runs.
   */
  replaceCode(name: string, codeDir: string): boolean {
    const runner = this.runners.get(name);
    if (!runner) return false;
    runner.replaceCode(codeDir);
    this.model = {
      ...this.model,
      functions: this.model.functions.map((f) => (f.name === name ? runner.definition : f)),
    };
    return true;
  }

  /** A function's runner (tests, API). */
  runner(name: string): FunctionRunner | undefined {
    return this.runners.get(name);
  }

  /** API endpoints for the banner. */
  apiEndpoints(): ReturnType<ApiGateway['endpoints']> {
    return this.api.endpoints(this.url);
  }

  /** Stops serving, polling and functions; writes pending state. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.unapply(false);
    await new Promise<void>((done) => {
      this.server.close(() => done());
      this.server.closeAllConnections();
    });
    this.moveTasks.close();
    this.buses.close();
    this.archives.close();
    this.store.close();
    await this.dynamodb.close();
    this.unlock();
  }
}
