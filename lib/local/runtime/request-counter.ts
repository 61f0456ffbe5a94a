/**
 * An opt-in count of what the local runtime does that AWS would bill, for benchmarks (the cost model
 * is checked against it): the AWS API requests the runtime serves, by `X-Amz-Target` (PutEvents,
 * DynamoDB and SQS calls of functions and clients); the messages rules send to queues; the
 * invocations of each function (distinct `function_request_id` in its JSON log lines, which the
 * worker writes for every record); and the bytes each function logs.
 *
 * Wiring: `LocalRuntime.start({ requestCounter, events: { ...counter.events } })`.
 */
import type { Server } from 'node:http';
import type { RouteLog } from '../services/eventbridge/bus.ts';

/** The counts at one moment; subtract two to count a phase. */
export interface RequestCounts {
  readonly requests: Readonly<Record<string, number>>;
  readonly ruleDeliveries: number;
  readonly invocations: Readonly<Record<string, number>>;
  readonly logBytes: Readonly<Record<string, number>>;
}

export class RequestCounter {
  /** Requests served, by `X-Amz-Target` (e.g. `DynamoDB_20120810.UpdateItem`). */
  readonly requests = new Map<string, number>();
  /** Messages rules delivered to their targets (EventBridge's SendMessage to each RPC queue). */
  ruleDeliveries = 0;
  /** Bytes each function wrote to its log (lines and their newlines), by function name. */
  readonly logBytes = new Map<string, number>();
  private readonly requestIds = new Map<string, Set<string>>();

  /** Runtime events to pass to `LocalRuntime.start` (merge with your own). */
  readonly events = {
    route: (log: RouteLog): void => {
      if (log.outcome === 'delivered') this.ruleDeliveries++;
    },
    functionOutput: (functionName: string, _stream: 'stdout' | 'stderr', line: string): void => {
      this.logBytes.set(functionName, (this.logBytes.get(functionName) ?? 0) + Buffer.byteLength(line) + 1);
      const id = /"function_request_id":"([^"]+)"/.exec(line)?.[1];
      if (!id) return;
      const ids = this.requestIds.get(functionName) ?? new Set<string>();
      ids.add(id);
      this.requestIds.set(functionName, ids);
    },
  };

  /** Counts every request `server` serves. */
  attach(server: Server): void {
    server.on('request', (req) => {
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string') this.requests.set(target, (this.requests.get(target) ?? 0) + 1);
    });
  }

  /** Requests served whose target is `target` (e.g. `AWSEvents.PutEvents`). */
  count(target: string): number {
    return this.requests.get(target) ?? 0;
  }

  /** Everything counted so far. */
  snapshot(): RequestCounts {
    return {
      requests: Object.fromEntries(this.requests),
      ruleDeliveries: this.ruleDeliveries,
      invocations: Object.fromEntries([...this.requestIds].map(([name, ids]) => [name, ids.size])),
      logBytes: Object.fromEntries(this.logBytes),
    };
  }

  /** Invocations of `functionName` that logged at least one JSON line. */
  invocations(functionName: string): number {
    return this.requestIds.get(functionName)?.size ?? 0;
  }
}
