/**
 * What only the runtime knows about itself: its endpoint, region, buses, the local API routes and the
 * problems found in the templates (`facts()`). `GET /_status` (and `GET /` when nothing is mounted)
 * answers them when no mounted handler answers first. With the dashboard mounted (`event-router dev`),
 * `/_status` is an alias of the dashboard API's `/_dashboard/api/status`, which adds the router's graph,
 * each RPC's queue and DLQ depth and the recent deliveries from the same code as the dashboard's other
 * endpoints (lib/ops and the deliveries table): one implementation of each. Read-only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalModel } from '../assembly/model.ts';
import type { ApiGateway } from '../services/apigateway.ts';

export interface StatusSource {
  readonly url: string;
  readonly model: LocalModel;
  readonly api: ApiGateway;
}

/** The runtime's own facts. */
export interface RuntimeFacts {
  readonly endpoint: string;
  readonly region: string;
  readonly buses: readonly string[];
  readonly apis: unknown;
  readonly problems: readonly string[];
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

export class StatusEndpoints {
  constructor(private readonly source: () => StatusSource | undefined) {}

  /** The runtime's facts; undefined while it starts. */
  facts(): RuntimeFacts | undefined {
    const s = this.source();
    if (!s) return undefined;
    return {
      endpoint: s.url,
      region: s.model.region,
      buses: s.model.buses,
      apis: s.api.endpoints(s.url),
      problems: s.model.problems,
    };
  }

  /** Serves `/` and `/_status` (the facts, and where the full status is); false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/_status' || path === '/')) {
      const facts = this.facts();
      const body = facts
        ? {
            ...facts,
            status:
              'The router graph, queue depths and recent deliveries are served by the dashboard API (/_dashboard/api/status, also at /_status), which `event-router dev` mounts.',
          }
        : { starting: true };
      send(res, 200, 'application/json', JSON.stringify(body, null, 2));
      return true;
    }
    return false;
  }
}
