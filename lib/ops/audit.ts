/**
 * The audit trail of operator actions (redrive, edit, purge, replay): who, when, what, how many,
 * outcome. Kept in the router's deliveries table, so it is as durable as the delivery records and
 * works the same on AWS and locally, with no extra resource:
 *
 * - partition key `eventId` = `ops#audit` (one partition: operator actions are rare, a Query lists them
 *   newest first without a scan);
 * - sort key `rpc` = `<ISO time>#<uuid>`. A delivery's sort key is always an RPC id `Service/Method`,
 *   which contains a `/`; an audit key never does, so the two can never collide whatever eventIds
 *   publishers choose. Audit items have no `status`, so nothing that reads deliveries mistakes one.
 * - `expiresAt` (the table's TTL) 400 days ahead: a year of history and a margin.
 */
import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';

export const AUDIT_PARTITION = 'ops#audit';
/** The only attributes an operator writes on a delivery record (edit and retry): its key and `lastEdit`. */
export const EDIT_NOTE_ATTRIBUTES = ['eventId', 'rpc', 'lastEdit'] as const;
const RETENTION_SECONDS = 400 * 24 * 3600;

export type AuditAction = 'redrive' | 'redrive-set' | 'edit' | 'purge' | 'replay';

export interface AuditEntry {
  /** ISO-8601 instant the action ended (or was refused). */
  readonly at: string;
  readonly who: string;
  readonly action: AuditAction;
  /** The RPC (or RPCs) acted on. */
  readonly rpc: string;
  /** What exactly: a group, a filter, a message id, a task handle. */
  readonly what: string;
  /** Messages the action moved, sent or removed. */
  readonly count: number;
  readonly outcome: 'ok' | 'partial' | 'failed';
  readonly detail?: string;
}

export class AuditLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Writes one entry (one PutItem); returns it with its time. */
  async record(entry: Omit<AuditEntry, 'at'>, now = Date.now()): Promise<AuditEntry> {
    const at = new Date(now).toISOString();
    const full: AuditEntry = { at, ...entry };
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          eventId: AUDIT_PARTITION,
          kind: 'audit',
          ...full,
          // `rpc` is the sort key: the RPC acted on is stored as `target`.
          rpc: `${at}#${randomUUID()}`,
          target: entry.rpc,
          expiresAt: Math.floor(now / 1000) + RETENTION_SECONDS,
        },
      }),
    );
    return full;
  }

  /** The newest `limit` entries, newest first. */
  async list(limit = 50): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'eventId = :p',
          ExpressionAttributeValues: { ':p': AUDIT_PARTITION },
          ScanIndexForward: false,
          Limit: limit - out.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const { eventId: _p, rpc: _key, kind: _kind, expiresAt: _e, target, ...rest } = item;
        out.push({ ...rest, rpc: String(target ?? '') } as AuditEntry);
      }
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }
}
