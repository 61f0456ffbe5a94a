/**
 * Checks that span sections: subscriber ids against the RPCs, filters, `publishes` against the events,
 * and the warnings about RPCs and events that nothing connects.
 */
import type { Node } from 'yaml';
import { EVENT_SOURCE_PREFIX } from '../../common/naming.ts';
import { findPatternProblems, MAX_PATTERN_LENGTH, rulePatternFor } from '../patterns/index.ts';
import { PASCAL_CASE, toPascalCase } from './identifiers.ts';
import type { EventDraft, SubscriberDraft } from './sections/events.ts';
import type { RpcDraft } from './sections/services.ts';
import { closest } from './suggest.ts';
import type { JsonSchema, SubscriptionSpec } from './types.ts';
import type { YamlReader } from './yaml-reader.ts';

const ENVELOPE_FIELDS = ['metadata', 'payload'];
const METADATA_FIELDS = [
  'eventId',
  'occurredAt',
  'correlationId',
  'causationId',
  'publisher',
  'schemaVersion',
];

/** Checks every subscriber and returns the valid subscriptions. */
export function checkSubscriptions(
  reader: YamlReader,
  events: readonly EventDraft[],
  rpcs: readonly RpcDraft[],
  knownRpcIds: ReadonlySet<string>,
  complete: boolean,
  /** EventBridge sources of an event's publishers (the rule pattern matches them; its length counts them). */
  sourcesOf: (event: EventDraft) => readonly string[] = () => [],
): SubscriptionSpec[] {
  const out: SubscriptionSpec[] = [];
  let invalidIds = 0;
  for (const event of events) {
    const seen = new Map<string, SubscriberDraft>();
    for (const sub of event.subscribers) {
      if (!checkRpcId(reader, sub, knownRpcIds)) {
        invalidIds++;
        continue;
      }
      const earlier = seen.get(sub.id);
      if (earlier) {
        reader.diagnostics.error(
          reader.loc(sub.idNode),
          'duplicate-subscription',
          `${sub.id} subscribes to event "${sub.event}" twice (first at line ${earlier.location.line}).`,
          'Keep one subscriber entry; to accept several shapes of event, combine the filters with "$or".',
        );
        continue;
      }
      seen.set(sub.id, sub);
      if (
        sub.filter !== undefined &&
        sub.filterNode &&
        !checkFilter(reader, sub, event.spec.schema, sourcesOf(event))
      )
        continue;
      out.push({
        event: sub.event,
        rpc: sub.id,
        ...(sub.filter !== undefined ? { filter: sub.filter } : {}),
        location: sub.location,
      });
    }
  }
  // Who reaches what is only known when every subscriber could be read: otherwise these warnings
  // would repeat the errors above in other words.
  if (complete && invalidIds === 0) warnUnconnected(reader, events, rpcs);
  return out;
}

function warnUnconnected(reader: YamlReader, events: readonly EventDraft[], rpcs: readonly RpcDraft[]): void {
  const reached = new Set(events.flatMap((e) => e.subscribers.map((s) => s.id)));
  for (const rpc of rpcs) {
    if (!reached.has(rpc.spec.id))
      reader.diagnostics.warning(
        reader.loc(rpc.keyNode),
        'unreachable-rpc',
        `No event is delivered to RPC ${rpc.spec.id}.`,
        `Add \`- id: ${rpc.spec.id}\` to the subscribers of an event, or remove the RPC.`,
      );
  }
  for (const event of events) {
    if (event.subscribers.length === 0)
      reader.diagnostics.warning(
        reader.loc(event.nameNode),
        'unsubscribed-event',
        `Nobody subscribes to event "${event.spec.name}".`,
        'Add `subscribers:` with `- id: Service/Method`, or remove the event if nothing publishes it.',
      );
  }
}

function checkRpcId(reader: YamlReader, sub: SubscriberDraft, known: ReadonlySet<string>): boolean {
  const parts = sub.id.split('/');
  const [service = '', method = ''] = parts;
  if (parts.length !== 2 || !PASCAL_CASE.test(service) || !PASCAL_CASE.test(method)) {
    const fixed = parts.length === 2 ? `${toPascalCase(service)}/${toPascalCase(method)}` : undefined;
    const suggestion = fixed && known.has(fixed) ? fixed : closest(fixed ?? sub.id, known);
    reader.diagnostics.error(
      reader.loc(sub.idNode),
      'malformed-rpc-id',
      `"${sub.id}" is not an RPC id: expected Service/Method, both PascalCase (letters and digits).`,
      suggestion
        ? `Did you mean "${suggestion}"?`
        : fixed
          ? `Write "${fixed}".`
          : 'Write it as e.g. "NotificationService/NotifyCardholder".',
    );
    return false;
  }
  if (!known.has(sub.id)) {
    const suggestion = closest(sub.id, known);
    const serviceKnown = [...known].some((id) => id.startsWith(`${service}/`));
    reader.diagnostics.error(
      reader.loc(sub.idNode),
      'unknown-rpc',
      `Event "${sub.event}" is delivered to ${sub.id}, which is not declared under "services".`,
      suggestion
        ? `Did you mean "${suggestion}"?`
        : serviceKnown
          ? `Add ${method} under services.${service}.rpcs.`
          : `Declare it: services: { ${service}: { rpcs: { ${method}: {} } } }.`,
    );
    return false;
  }
  return true;
}

/** Validates a filter as EventBridge would, and the full rule pattern's length. */
function checkFilter(
  reader: YamlReader,
  sub: SubscriberDraft,
  schema: JsonSchema,
  sources: readonly string[],
): boolean {
  const filterNode = sub.filterNode as Node;
  const filter = sub.filter as Record<string, unknown>;
  const owner = `The filter of ${sub.id} on event "${sub.event}"`;
  const problems = findPatternProblems(filter);
  for (const problem of problems) {
    reader.diagnostics.error(
      reader.loc(
        (KEY_PROBLEM.test(problem.message)
          ? reader.keyNodeAt(filterNode, problem.path)
          : reader.nodeAt(filterNode, problem.path)) ?? filterNode,
      ),
      'invalid-filter',
      `${owner} is not a valid EventBridge pattern: ${problem.message.replace(/[^.]$/, '$&.')}`,
      filterHint(problem.message, problem.path),
    );
  }
  if (problems.length > 0) return false;
  let ok = checkFilterFields(reader, filter, filterNode, owner, schema);
  const length = JSON.stringify(
    rulePatternFor(sub.event, sources.length > 0 ? sources : [EVENT_SOURCE_PREFIX], filter),
  ).length;
  if (length > MAX_PATTERN_LENGTH) {
    reader.diagnostics.error(
      reader.loc(filterNode),
      'pattern-too-long',
      `${owner} makes a rule pattern of ${length} characters; EventBridge accepts at most ${MAX_PATTERN_LENGTH}.`,
      'Shorten the filter (fewer listed values, a prefix instead of a list), or filter inside the handler.',
    );
    ok = false;
  }
  return ok;
}

/** Problems about a key (not its value) point at the key. */
const KEY_PROBLEM = /^(Unrecognized match type|Unsupported|Only one key|.* is Ruler reserved fieldName)/;

const MATCHERS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
];

/** The fix for the most common filter mistakes. */
function filterHint(message: string, path: readonly (string | number)[]): string {
  const field = String(path[path.length - 1] ?? 'field');
  const unknown = /^Unrecognized match type (.*)$/.exec(message);
  if (unknown) {
    const suggestion = closest(unknown[1] ?? '', MATCHERS);
    return suggestion ? `Did you mean "${suggestion}"?` : `Matchers: ${MATCHERS.join(', ')}.`;
  }
  if (message.endsWith('must be an object or an array'))
    return `List the accepted values, even a single one: \`${field}: [value]\`, or a matcher: \`${field}: [{ numeric: [">=", 100] }]\`.`;
  if (message.startsWith('Empty arrays')) return 'List at least one accepted value, or remove the field.';
  if (message.startsWith('Empty objects')) return 'Give the object at least one field, or remove it.';
  return 'Each field maps to a list of accepted values or matchers such as { prefix: "..." }, { numeric: [">", 0] }, { exists: true }.';
}

/**
 * The filter applies to the envelope: its fields must be `metadata` and `payload` (inside `$or` too).
 * Payload fields the schema does not know only warn: the schema may allow extra properties.
 */
function checkFilterFields(
  reader: YamlReader,
  filter: Record<string, unknown>,
  filterNode: Node,
  owner: string,
  schema: JsonSchema,
): boolean {
  let ok = true;
  const visit = (branch: Record<string, unknown>, path: (string | number)[]) => {
    for (const [key, value] of Object.entries(branch)) {
      const at = () => reader.keyNodeAt(filterNode, [...path, key]);
      if (key === '$or' && Array.isArray(value)) {
        value.forEach((b, i) => {
          if (isPlainObject(b)) visit(b, [...path, key, i]);
        });
      } else if (!ENVELOPE_FIELDS.includes(key)) {
        const suggestion = closest(key, ENVELOPE_FIELDS);
        reader.diagnostics.error(
          reader.loc(at()),
          'filter-unknown-field',
          `${owner} tests "${key}", but the event it filters is the envelope { metadata, payload }.`,
          suggestion
            ? `Did you mean "${suggestion}"?`
            : `Put payload fields under "payload:" (e.g. payload: { ${key}: [...] }).`,
        );
        ok = false;
      } else if (key === 'metadata' && isPlainObject(value)) {
        for (const field of Object.keys(value)) {
          if (field === '$or' || METADATA_FIELDS.includes(field)) continue;
          const suggestion = closest(field, METADATA_FIELDS);
          reader.diagnostics.error(
            reader.loc(reader.keyNodeAt(filterNode, [...path, key, field])),
            'filter-unknown-field',
            `${owner} tests metadata field "${field}", which events do not have.`,
            suggestion ? `Did you mean "${suggestion}"?` : `Metadata fields: ${METADATA_FIELDS.join(', ')}.`,
          );
          ok = false;
        }
      } else if (key === 'payload' && isPlainObject(value)) {
        warnUnknownPayloadFields(reader, value, schema, filterNode, [...path, key], owner);
      }
    }
  };
  visit(filter, []);
  return ok;
}

function warnUnknownPayloadFields(
  reader: YamlReader,
  filter: Record<string, unknown>,
  schema: unknown,
  filterNode: Node,
  path: (string | number)[],
  owner: string,
): void {
  if (!isPlainObject(schema) || !isPlainObject(schema.properties)) return;
  const properties = schema.properties;
  const names = Object.keys(properties);
  for (const [field, value] of Object.entries(filter)) {
    if (field === '$or') continue;
    if (!(field in properties)) {
      const suggestion = closest(field, names);
      reader.diagnostics.warning(
        reader.loc(reader.keyNodeAt(filterNode, [...path, field])),
        'filter-unknown-payload-field',
        `${owner} tests payload field "${field}", which the event's schema does not declare.`,
        suggestion ? `Did you mean "${suggestion}"?` : `Declared fields: ${names.join(', ')}.`,
      );
    } else if (isPlainObject(value)) {
      warnUnknownPayloadFields(reader, value, properties[field], filterNode, [...path, field], owner);
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Each `publishes` entry must name a declared event. */
export function checkPublishes(
  reader: YamlReader,
  rpcs: readonly RpcDraft[],
  eventNames: ReadonlySet<string>,
): void {
  for (const rpc of rpcs) {
    for (const published of rpc.publishes) {
      if (eventNames.has(published.name)) continue;
      const suggestion = closest(published.name, eventNames);
      reader.diagnostics.error(
        reader.loc(published.node),
        'unknown-event',
        `RPC ${rpc.spec.id} publishes "${published.name}", which is not declared under "events".`,
        suggestion
          ? `Did you mean "${suggestion}"?`
          : `Declare it under "events:" with its schema, or remove it from "publishes".`,
      );
    }
  }
}
