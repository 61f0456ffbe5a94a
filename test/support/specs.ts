/**
 * Router specs built in code for planner, CDK, scale tests and the synth benchmark: the shape the loader
 * produces, without a YAML file.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_RPC_SETTINGS,
  type EventSpec,
  type RouterSpec,
  type RpcSettings,
  type RpcSpec,
  type ServiceSpec,
  type SubscriptionSpec,
} from '../../lib/config/types.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** Project root (handler paths in fixtures are relative to it). */
export const PROJECT_ROOT = join(here, '..', '..');

/** A tiny worker handler module every fixture RPC can point at. */
export const FIXTURE_HANDLER = 'test/support/fixtures/handler.ts';

const at = { file: join(PROJECT_ROOT, 'fixture.yaml'), line: 1, col: 1 };

export interface RpcFixture {
  readonly id: string;
  readonly settings?: Partial<RpcSettings>;
  readonly publishes?: readonly string[];
  /** Remote endpoint instead of a handler module. */
  readonly remote?: { readonly baseUrl: string; readonly package: string };
  /** Handler module (relative to the project root, or absolute). @default FIXTURE_HANDLER */
  readonly handler?: string;
}

export interface SubscriptionFixture {
  readonly event: string;
  readonly rpc: string;
  readonly filter?: Record<string, unknown>;
}

export interface SpecFixture {
  readonly app?: string;
  readonly stage?: string;
  readonly rpcs: readonly RpcFixture[];
  /** Event names; each gets a small object schema. @default - every event named by a subscription */
  readonly events?: readonly string[];
  readonly subscriptions: readonly SubscriptionFixture[];
}

function rpcSpec(fixture: RpcFixture): RpcSpec {
  const [service = '', method = ''] = fixture.id.split('/');
  return {
    id: fixture.id,
    service,
    method,
    target: fixture.remote
      ? { kind: 'remote', baseUrl: fixture.remote.baseUrl, package: fixture.remote.package }
      : { kind: 'handler', handler: fixture.handler ?? FIXTURE_HANDLER },
    settings: { ...DEFAULT_RPC_SETTINGS, ...fixture.settings },
    publishes: fixture.publishes ?? [],
    intendedLoop: false,
    location: at,
  };
}

/** The external publisher of every event no fixture RPC publishes. */
export const TEST_PUBLISHER = 'TestPublisher';

function eventSpec(name: string, publishers: readonly string[]): EventSpec {
  return {
    name,
    publisher: publishers.join(', '),
    publishers,
    schema: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string' }, amount: { type: 'integer' } },
    },
    schemaVersion: 1,
    location: at,
  };
}

/** Builds a loaded-and-valid RouterSpec from a compact description. */
export function makeSpec(fixture: SpecFixture): RouterSpec {
  const services = new Map<string, RpcSpec[]>();
  for (const rpc of fixture.rpcs) {
    const spec = rpcSpec(rpc);
    services.set(spec.service, [...(services.get(spec.service) ?? []), spec]);
  }
  const serviceSpecs: ServiceSpec[] = [...services].map(([name, rpcs]) => ({ name, rpcs, location: at }));
  const eventNames = fixture.events ?? [
    ...new Set([
      ...fixture.subscriptions.map((sub) => sub.event),
      ...fixture.rpcs.flatMap((rpc) => rpc.publishes ?? []),
    ]),
  ];
  const publishersOf = (event: string): string[] => {
    const rpcs = fixture.rpcs.filter((rpc) => rpc.publishes?.includes(event)).map((rpc) => rpc.id);
    return rpcs.length > 0 ? rpcs : [TEST_PUBLISHER];
  };
  const subscriptions: SubscriptionSpec[] = fixture.subscriptions.map((sub) => ({
    event: sub.event,
    rpc: sub.rpc,
    ...(sub.filter === undefined ? {} : { filter: sub.filter }),
    location: at,
  }));
  return {
    file: at.file,
    rootDir: PROJECT_ROOT,
    app: {
      name: fixture.app ?? 'testapp',
      stage: fixture.stage ?? 'dev',
      archiveRetentionDays: 30,
      dedupRetentionSeconds: 19 * 86400,
      publishApi: { auth: { type: 'iam' }, rateLimit: 100, burstLimit: 200 },
    },
    events: eventNames.map((name) => eventSpec(name, publishersOf(name))),
    services: serviceSpecs,
    subscriptions,
    publishers: [
      {
        name: TEST_PUBLISHER,
        identity: { kind: 'iam', principal: 'arn:aws:iam::*:role/test-publisher' },
        putsOnBus: false,
        events: eventNames.filter((name) => publishersOf(name)[0] === TEST_PUBLISHER),
        location: at,
      },
    ],
  };
}

/**
 * A generated router: `services` services of `rpcsPerService` RPCs each; every RPC subscribes to
 * `subscriptionsPerRpc` events out of a pool shared by all services (so rules have several targets),
 * every other subscription with a content filter. With `remote`, every RPC is a remote endpoint (its
 * worker is the real remote-RPC worker); with `handlerFor`, each RPC gets the handler module it returns.
 */
export function generateSpec(
  services: number,
  rpcsPerService: number,
  subscriptionsPerRpc: number,
  options: { readonly remote?: boolean; readonly handlerFor?: (rpcId: string) => string } = {},
): RouterSpec {
  const rpcs: RpcFixture[] = [];
  const subscriptions: SubscriptionFixture[] = [];
  const eventPool = Math.max(1, Math.ceil(rpcsPerService / 2));
  for (let s = 0; s < services; s++) {
    for (let r = 0; r < rpcsPerService; r++) {
      const id = `Service${s}/Method${r}`;
      if (options.remote)
        rpcs.push({ id, remote: { baseUrl: `https://service${s}.example.com`, package: 'acme.bench.v1' } });
      else rpcs.push(options.handlerFor ? { id, handler: options.handlerFor(id) } : { id });
      for (let k = 0; k < subscriptionsPerRpc; k++) {
        const event = `domain${s % 7}.event${(r + k) % eventPool}.happened`;
        subscriptions.push(
          k % 2 === 0
            ? { event, rpc: id }
            : { event, rpc: id, filter: { payload: { amount: [{ numeric: ['>=', 100] }] } } },
        );
      }
    }
  }
  return makeSpec({ rpcs, subscriptions });
}
