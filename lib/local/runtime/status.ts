/**
 * The runtime's own status endpoints, read from the templates: `GET /_status` (and `GET /` when no
 * dashboard is mounted) answers JSON with the event -> RPC graph, each RPC's queue and DLQ depth
 * and the recent deliveries. It changes nothing: redrives and every other DLQ action go through SQS
 * (the CLI) or the dashboard's API, both through lib/ops.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Graph } from '../../plan/graph.ts';
import type { LocalModel } from '../assembly/model.ts';
import type { DeliveryLog } from '../lambda/poller.ts';
import type { ApiGateway } from '../services/apigateway.ts';
import type { MoveTasks } from '../services/sqs/move-tasks.ts';
import type { Queue } from '../services/sqs/queue.ts';
import type { QueueStore } from '../services/sqs/store.ts';

export interface StatusSource {
  readonly url: string;
  readonly model: LocalModel;
  readonly store: QueueStore;
  readonly moveTasks: MoveTasks;
  readonly api: ApiGateway;
  /** The router's graph as it runs now, when the runtime knows its router file. */
  readonly graph: Graph | undefined;
}

interface Recent extends DeliveryLog {
  readonly at: string;
}

const RECENT = 200;

function depth(queue: Queue | undefined): { name: string; visible: number; inFlight: number } | null {
  if (!queue) return null;
  const c = queue.counts();
  return { name: queue.name, visible: c.visible, inFlight: c.notVisible + c.delayed };
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
  private readonly recent: Recent[] = [];

  constructor(private readonly source: () => StatusSource | undefined) {}

  /** Remembers a delivery for the "recent deliveries" list. */
  record(log: DeliveryLog): void {
    this.recent.unshift({ ...log, at: new Date().toISOString() });
    if (this.recent.length > RECENT) this.recent.length = RECENT;
  }

  /** The status data. */
  status(): Record<string, unknown> {
    const s = this.source();
    if (!s) return { starting: true };
    const { model, store } = s;
    const rpcs = model.mappings.map((mapping) => {
      const queue = store.byArn(mapping.queueArn);
      const fn = model.functions.find((f) => f.name === mapping.functionName);
      const redrive = queue?.config.redrivePolicy;
      const events = model.rules
        .filter((r) => r.targets.some((t) => t.arn === mapping.queueArn))
        .flatMap((r) => {
          const names = (r.pattern as { 'detail-type'?: unknown } | null)?.['detail-type'];
          return Array.isArray(names) ? names.map(String) : [`rule ${r.name}`];
        });
      return {
        rpc: fn?.environment.ER_RPC ?? mapping.functionName,
        functionName: mapping.functionName,
        events: [...new Set(events)],
        queue: depth(queue),
        dlq: depth(redrive ? store.byArn(redrive.deadLetterTargetArn) : undefined),
        maxReceiveCount: redrive?.maxReceiveCount ?? null,
      };
    });
    return {
      endpoint: s.url,
      region: model.region,
      buses: model.buses,
      ...(s.graph ? { graph: s.graph } : {}),
      rpcs,
      queues: store.list().map((q) => depth(q)),
      recent: this.recent,
      apis: s.api.endpoints(s.url),
      problems: model.problems,
    };
  }

  /** Serves `/` and `/_status`; false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/_status' || path === '/')) {
      send(res, 200, 'application/json', JSON.stringify(this.status(), null, 2));
      return true;
    }
    return false;
  }
}
