/**
 * The `events:` section: each event, its payload schema and its subscribers.
 */

import type { Node } from 'yaml';
import { NAME_LIMITS } from '../../../common/aws-limits.ts';
import { capitalize, kebabCase } from '../../../common/case.ts';
import { EVENT_NAME, toEventName } from '../identifiers.ts';
import { checkJsonSchema } from '../json-schema.ts';
import type { EventSpec, JsonSchema, SourceLocation } from '../types.ts';
import type { Entry, YamlReader } from '../yaml-reader.ts';

const EVENT_KEYS = ['name', 'description', 'publisher', 'schema', 'schemaVersion', 'subscribers'] as const;
const SUBSCRIBER_KEYS = ['id', 'filter'] as const;

/** A subscriber entry as written, checked against the RPCs later. */
export interface SubscriberDraft {
  readonly event: string;
  readonly id: string;
  readonly idNode: Node;
  readonly filter?: Record<string, unknown>;
  readonly filterNode?: Node;
  readonly location: SourceLocation;
}

/** One name of an event's `publisher:` with its node. */
export interface PublisherRef {
  readonly name: string;
  readonly node: Node;
}

export interface EventDraft {
  readonly spec: EventSpec;
  readonly nameNode: Node;
  /** Each name in `publisher:` with its node (checked against publishers and RPCs later). */
  readonly publisherRefs: readonly PublisherRef[];
  readonly subscribers: readonly SubscriberDraft[];
  /** Subscriber entries that were written but could not be read (already reported). */
  readonly brokenSubscribers: number;
}

export interface EventsResult {
  readonly events: EventDraft[];
  /** False when some event or subscriber could not be read, so who-reaches-what is not fully known. */
  readonly complete: boolean;
}

/** Reads `events:`; reports duplicate names. */
export function readEvents(reader: YamlReader, entry: Entry): EventsResult {
  const seq = reader.asSeq(entry.value);
  if (!seq) {
    if (reader.isNull(entry.value)) return { events: [], complete: true };
    reader.wrongType(
      entry,
      'a list of events',
      '"events"',
      'Write each event as a list item: `- name: card.transaction.authorized`.',
    );
    return { events: [], complete: false };
  }
  let complete = true;
  const out: EventDraft[] = [];
  const byName = new Map<string, EventDraft>();
  const byPhysical = new Map<string, EventDraft>();
  for (const item of seq.items) {
    const node = reader.resolve(item);
    const draft = readEvent(reader, node, seq);
    if (!draft) {
      complete = false;
      continue;
    }
    if (draft.brokenSubscribers > 0) complete = false;
    const same = byName.get(draft.spec.name);
    const similar = byPhysical.get(kebabCase(draft.spec.name));
    if (same) {
      reader.diagnostics.error(
        reader.loc(draft.nameNode),
        'duplicate-event',
        `Event "${draft.spec.name}" is declared twice (first at line ${same.spec.location.line}).`,
        'Keep one declaration and move the subscribers of the other into it.',
      );
      continue;
    }
    if (similar) {
      reader.diagnostics.error(
        reader.loc(draft.nameNode),
        'duplicate-event',
        `Event "${draft.spec.name}" has the same resource names as "${similar.spec.name}" (line ${similar.spec.location.line}).`,
        'Rename one of them so they differ by more than punctuation.',
      );
      continue;
    }
    byName.set(draft.spec.name, draft);
    byPhysical.set(kebabCase(draft.spec.name), draft);
    out.push(draft);
  }
  return { events: out, complete };
}

function readEvent(reader: YamlReader, node: Node | undefined, seq: Node): EventDraft | undefined {
  const map = reader.asMap(node);
  if (!map) {
    reader.wrongType(node ?? seq, 'a mapping with name, publisher, schema and subscribers', 'an event');
    return undefined;
  }
  const fields = reader.fields(map, 'an event', EVENT_KEYS);
  const nameEntry = fields.get('name');
  const name = readEventName(reader, nameEntry, map);
  const written = name ?? reader.stringOf(nameEntry?.value);
  const what = written ? `event "${written}"` : 'an event';
  const description = reader.string(fields.get('description'), `"description" of ${what}`);
  const publisherEntry = fields.get('publisher');
  if (!publisherEntry)
    reader.missing(
      map,
      'publisher',
      what,
      'Add `publisher: <Name>`: a publisher declared under `publishers:`, or the RPC (Service/Method) that publishes it as a follow-up.',
    );
  const publisherRefs = publisherEntry ? readPublisherRefs(reader, publisherEntry, what) : [];
  const schema = readSchema(reader, fields.get('schema'), map, what);
  const versionEntry = fields.get('schemaVersion');
  const schemaVersion = versionEntry
    ? reader.integer(versionEntry, `"schemaVersion" of ${what}`, 1, 1_000_000)
    : 1;
  // Subscribers of an event with a bad name are still checked, so all their problems show at once.
  const { subscribers, broken } = readSubscribers(reader, fields.get('subscribers'), written ?? '(unnamed)');
  // An event with a usable name is kept even when other fields are wrong (already reported), so
  // references to it are not reported a second time as unknown.
  if (!name || !nameEntry) return undefined;
  const location = reader.loc(map);
  const spec: EventSpec = {
    name,
    ...(description !== undefined ? { description } : {}),
    publisher: publisherRefs.map((p) => p.name).join(', '),
    publishers: publisherRefs.map((p) => p.name),
    schema: schema ?? {},
    schemaVersion: schemaVersion ?? 1,
    location,
  };
  return {
    spec,
    nameNode: nameEntry.value ?? nameEntry.keyNode,
    publisherRefs,
    subscribers,
    brokenSubscribers: broken,
  };
}

/** `publisher: Name` or `publisher: [Name, Service/Method]`. */
function readPublisherRefs(reader: YamlReader, entry: Entry, what: string): PublisherRef[] {
  const hint =
    'Write `publisher: CardNetwork` (declared under `publishers:`) or `publisher: Service/Method`.';
  const seq = reader.asSeq(entry.value);
  if (!seq) {
    const name = reader.string(entry, `"publisher" of ${what}`, hint);
    return name !== undefined && entry.value ? [{ name, node: entry.value }] : [];
  }
  const out: PublisherRef[] = [];
  for (const item of seq.items) {
    const node = reader.resolve(item) ?? seq;
    const name = reader.stringOf(node);
    if (name === undefined || name.trim() === '') {
      reader.wrongType(node, 'a publisher name', `an entry of "publisher" of ${what}`, hint);
      continue;
    }
    if (out.some((p) => p.name === name)) {
      reader.diagnostics.error(
        reader.loc(node),
        'duplicate-publisher',
        `${capitalize(what)} lists publisher "${name}" twice.`,
        'Remove the second entry.',
      );
      continue;
    }
    out.push({ name, node });
  }
  if (out.length === 0 && seq.items.length === 0)
    reader.wrongType(entry, 'a publisher name or a non-empty list of them', `"publisher" of ${what}`, hint);
  return out;
}

function readEventName(reader: YamlReader, entry: Entry | undefined, map: Node): string | undefined {
  if (!entry) {
    reader.missing(
      map,
      'name',
      'an event',
      'Add `name: <domain.entity.verb>`, e.g. `name: card.transaction.authorized`.',
    );
    return undefined;
  }
  const name = reader.string(entry, 'an event name');
  if (name === undefined) return undefined;
  if (!EVENT_NAME.test(name)) {
    const fix = toEventName(name);
    reader.diagnostics.error(
      reader.loc(entry.value),
      'invalid-event-name',
      `The event name "${name}" is not lower-case dot-separated words.`,
      EVENT_NAME.test(fix) ? `Write "${fix}".` : 'Use a name like "card.transaction.authorized".',
    );
    return undefined;
  }
  if (name.length > NAME_LIMITS.eventName) {
    reader.diagnostics.error(
      reader.loc(entry.value),
      'name-too-long',
      `The event name "${name.slice(0, 40)}..." is ${name.length} characters long; at most ${NAME_LIMITS.eventName} are allowed (it is the EventBridge detail-type in every rule pattern and IAM condition).`,
      `Shorten it to ${NAME_LIMITS.eventName} characters or fewer.`,
    );
    return undefined;
  }
  return name;
}

function readSchema(
  reader: YamlReader,
  entry: Entry | undefined,
  map: Node,
  what: string,
): JsonSchema | undefined {
  if (!entry) {
    reader.missing(
      map,
      'schema',
      what,
      'Add `schema:` with the JSON Schema of the payload, at least `type: object`.',
    );
    return undefined;
  }
  const schemaMap = reader.asMap(entry.value);
  if (!schemaMap) {
    reader.wrongType(
      entry,
      'a JSON Schema (a mapping)',
      `"schema" of ${what}`,
      'Write the payload schema as a mapping, e.g. `schema: { type: object, properties: { ... } }`.',
    );
    return undefined;
  }
  const schema = reader.toJs(schemaMap, `the payload schema of ${what}`) as JsonSchema | undefined;
  if (schema === undefined) return undefined;
  const problems = checkJsonSchema(schema);
  for (const problem of problems) {
    const at = reader.nodeAt(schemaMap, problem.path) ?? schemaMap;
    reader.diagnostics.error(
      reader.loc(at),
      problem.code ?? 'invalid-schema',
      problem.code === 'unsafe-pattern'
        ? `The payload schema of ${what} has an unsafe ${problem.message}.`
        : `The payload schema of ${what} is not a valid JSON Schema: ${problem.message}.`,
      problem.code === 'unsafe-pattern'
        ? 'Rewrite it without a repetition inside a repetition (`^(a+)+$` as `^a+$`, `^(\\w+\\s?)*$` as `^[\\w\\s]*$`), or check the value in the handler.'
        : 'Fix the schema (draft 2020-12 by default; add `$schema: http://json-schema.org/draft-07/schema#` for draft-07).',
    );
  }
  return problems.length === 0 ? schema : undefined;
}

function readSubscribers(
  reader: YamlReader,
  entry: Entry | undefined,
  event: string,
): { subscribers: SubscriberDraft[]; broken: number } {
  if (!entry || reader.isNull(entry.value)) return { subscribers: [], broken: 0 };
  const seq = reader.asSeq(entry.value);
  if (!seq) {
    reader.wrongType(
      entry,
      'a list of subscribers',
      `"subscribers" of event "${event}"`,
      'Write each as a list item: `- id: Service/Method`.',
    );
    return { subscribers: [], broken: 1 };
  }
  const out: SubscriberDraft[] = [];
  let broken = 0;
  for (const item of seq.items) {
    const node = reader.resolve(item) ?? seq;
    const map = reader.asMap(node);
    if (!map) {
      const text = reader.stringOf(node);
      reader.wrongType(
        node,
        'a mapping with `id:`',
        `a subscriber of event "${event}"`,
        text ? `Write \`- id: ${text}\`.` : 'Write each subscriber as `- id: Service/Method`.',
      );
      broken++;
      continue;
    }
    const fields = reader.fields(map, `a subscriber of event "${event}"`, SUBSCRIBER_KEYS);
    const idEntry = fields.get('id');
    if (!idEntry) {
      reader.missing(
        map,
        'id',
        `a subscriber of event "${event}"`,
        'Add `id: Service/Method`, the RPC that receives the event.',
      );
      broken++;
      continue;
    }
    const id = reader.string(idEntry, `the subscriber id of event "${event}"`, 'Write `id: Service/Method`.');
    if (id === undefined) {
      broken++;
      continue;
    }
    const filterEntry = fields.get('filter');
    let filter: Record<string, unknown> | undefined;
    if (filterEntry && !reader.isNull(filterEntry.value)) {
      const filterMap = reader.asMap(filterEntry.value);
      if (!filterMap) {
        reader.wrongType(
          filterEntry,
          'a mapping (an EventBridge pattern on the envelope)',
          `the filter of ${id} on event "${event}"`,
          'Write e.g. `filter: { payload: { amount: [{ numeric: [">=", 100] }] } }`.',
        );
        broken++;
        continue;
      }
      filter = reader.toJs(filterMap, `the filter of ${id} on event "${event}"`) as
        | Record<string, unknown>
        | undefined;
      if (filter === undefined) {
        broken++;
        continue;
      }
    }
    out.push({
      event,
      id,
      idNode: idEntry.value ?? idEntry.keyNode,
      ...(filter !== undefined && filterEntry?.value ? { filter, filterNode: filterEntry.value } : {}),
      location: reader.loc(map),
    });
  }
  return { subscribers: out, broken };
}
