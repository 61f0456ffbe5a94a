/**
 * What the dashboard's delivery view shows beyond the deliveries table, kept in memory by the runtime
 * for the most recent events: each event as it was put on the bus (name, source, time, envelope with
 * its payload), the events published because of it (their causationId), and the worker log lines that
 * name it (the structured lines carry `eventId` and `rpc`). Bounded; lost on restart.
 */
import type { BusEventRecord } from '../services/eventbridge/bus.ts';

/** One event as it was routed. */
export interface LoggedEvent {
  readonly eventId: string;
  readonly name: string;
  readonly source: string;
  /** When it was put on the bus (ISO-8601). */
  readonly time: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly payload: unknown;
}

/** A worker log line about an event. */
export interface LoggedLine {
  readonly rpc: string;
  readonly functionName: string;
  readonly at: number;
  readonly line: string;
}

const MAX_EVENTS = 2000;
const MAX_LINES_PER_EVENT = 200;

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export class EventLog {
  private readonly events = new Map<string, LoggedEvent>();
  private readonly children = new Map<string, Set<string>>();
  private readonly lines = new Map<string, LoggedLine[]>();

  /** Notes an event the bus routed (the first sighting of its eventId counts). */
  noteRouted(event: BusEventRecord): void {
    const detail = record(event.detail);
    const metadata = record(detail?.metadata);
    const eventId = str(metadata?.eventId);
    if (!eventId || this.events.has(eventId)) return;
    const causationId = str(metadata?.causationId);
    const correlationId = str(metadata?.correlationId);
    this.events.set(eventId, {
      eventId,
      name: event['detail-type'],
      source: event.source,
      time: event.time,
      ...(correlationId ? { correlationId } : {}),
      ...(causationId ? { causationId } : {}),
      payload: detail?.payload,
    });
    if (causationId) {
      const set = this.children.get(causationId) ?? new Set<string>();
      set.add(eventId);
      this.children.set(causationId, set);
    }
    while (this.events.size > MAX_EVENTS) {
      const oldest = this.events.keys().next().value as string;
      this.events.delete(oldest);
      this.children.delete(oldest);
      this.lines.delete(oldest);
    }
  }

  /** Notes a function's output line when it is a structured line naming an eventId. */
  noteOutput(functionName: string, line: string): void {
    if (!line.startsWith('{') || !line.includes('"eventId"')) return;
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = record(JSON.parse(line));
    } catch {
      return;
    }
    const eventId = str(parsed?.eventId);
    if (!eventId) return;
    const list = this.lines.get(eventId) ?? [];
    if (list.length >= MAX_LINES_PER_EVENT) return;
    list.push({ rpc: str(parsed?.rpc) ?? functionName, functionName, at: Date.now(), line });
    this.lines.set(eventId, list);
  }

  event(eventId: string): LoggedEvent | undefined {
    return this.events.get(eventId);
  }

  /** eventIds of the events published while handling `eventId`. */
  followUps(eventId: string): string[] {
    return [...(this.children.get(eventId) ?? [])];
  }

  /** Worker log lines about `eventId`, oldest first. */
  logLines(eventId: string): readonly LoggedLine[] {
    return this.lines.get(eventId) ?? [];
  }

  /** The newest events, newest first. */
  recent(limit = 100): LoggedEvent[] {
    return [...this.events.values()].slice(-limit).reverse();
  }
}
