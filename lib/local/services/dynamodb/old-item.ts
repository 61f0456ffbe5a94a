/**
 * `ReturnValuesOnConditionCheckFailure` for single-item writes, which dynalite ignores: when a
 * PutItem, UpdateItem or DeleteItem asking for `ALL_OLD` fails its condition, DynamoDB returns the
 * item as it was in the error body (`{"__type": "...#ConditionalCheckFailedException", "message":
 * "...", "Item": {...}}`). These helpers decide which requests need that and build the answer; the
 * item itself is read by `dynamodb.ts` (one consistent GetItem).
 */

/** The write operations that take `ReturnValuesOnConditionCheckFailure` (TransactWriteItems aside). */
const SINGLE_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

const PARAMETER = 'ReturnValuesOnConditionCheckFailure';
const VALUES = ['ALL_OLD', 'NONE'];

/** A DynamoDB attribute value as it appears on the wire (`{"S": "..."}`, `{"N": "..."}`, ...). */
export type WireItem = Record<string, unknown>;

/** A write that asked for the old item on a failed condition. */
export interface OldItemWrite {
  readonly operation: 'PutItem' | 'UpdateItem' | 'DeleteItem';
  readonly tableName: string;
  /** `Key` of an UpdateItem or DeleteItem; undefined for PutItem (derived from `Item` and the key schema). */
  readonly key?: WireItem;
  /** `Item` of a PutItem. */
  readonly item?: WireItem;
}

/** What a write body asks for: nothing special, the old item, or an invalid value (answered as DynamoDB does). */
export type OldItemRequest =
  | { readonly kind: 'plain' }
  | { readonly kind: 'old-item'; readonly write: OldItemWrite }
  | { readonly kind: 'invalid'; readonly message: string };

/** The operation name of `DynamoDB_20120810.<Operation>` when it is a single-item write. */
export function singleWriteOperation(target: string): OldItemWrite['operation'] | undefined {
  const operation = target.slice(target.indexOf('.') + 1);
  return SINGLE_WRITES.has(operation) ? (operation as OldItemWrite['operation']) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads what a write's body asks for. Anything unparsable is `plain` (dynalite answers it). */
export function readOldItemRequest(operation: OldItemWrite['operation'], body: string): OldItemRequest {
  // Most writes do not carry the parameter: skip parsing them.
  if (!body.includes(PARAMETER)) return { kind: 'plain' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { kind: 'plain' };
  }
  if (!isObject(parsed)) return { kind: 'plain' };
  const value = parsed[PARAMETER];
  if (value === undefined || value === null) return { kind: 'plain' };
  if (typeof value !== 'string' || !VALUES.includes(value))
    return {
      kind: 'invalid',
      message:
        `1 validation error detected: Value '${String(value)}' at 'returnValuesOnConditionCheckFailure' ` +
        `failed to satisfy constraint: Member must satisfy enum value set: [${VALUES.join(', ')}]`,
    };
  if (value !== 'ALL_OLD' || typeof parsed.TableName !== 'string') return { kind: 'plain' };
  return {
    kind: 'old-item',
    write: {
      operation,
      tableName: parsed.TableName,
      ...(isObject(parsed.Key) ? { key: parsed.Key } : {}),
      ...(isObject(parsed.Item) ? { item: parsed.Item } : {}),
    },
  };
}

/** The key attribute names of a DescribeTable answer's `Table.KeySchema`, or undefined. */
export function keyNamesOf(describeTable: Record<string, unknown>): string[] | undefined {
  const table = describeTable.Table;
  if (!isObject(table) || !Array.isArray(table.KeySchema)) return undefined;
  const names = table.KeySchema.map((element: unknown) =>
    isObject(element) && typeof element.AttributeName === 'string' ? element.AttributeName : undefined,
  );
  return names.every((name) => name !== undefined) && names.length > 0 ? (names as string[]) : undefined;
}

/** The key of a PutItem's item under the table's key attributes; undefined when one is missing. */
export function keyFromItem(item: WireItem, keyNames: readonly string[]): WireItem | undefined {
  const key: WireItem = {};
  for (const name of keyNames) {
    if (!(name in item)) return undefined;
    key[name] = item[name];
  }
  return key;
}

/** Whether an error body is DynamoDB's failed-condition error. */
export function isConditionFailure(body: unknown): body is Record<string, unknown> {
  return (
    isObject(body) &&
    typeof body.__type === 'string' &&
    body.__type.endsWith('#ConditionalCheckFailedException')
  );
}
