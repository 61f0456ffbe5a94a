/**
 * The `publishers:` section: the external publishers (clients and systems that are not RPCs of this
 * router) and how each proves who it is: an IAM principal, a JWT claim or a named API key for the
 * publish API, and/or `putsOnBus: true` when it puts its events on the bus itself.
 *
 * ```yaml
 * publishers:
 *   CardNetwork:
 *     description: The card network gateway.
 *     iam: arn:aws:iam::*:role/card-network-gateway   # `*` matches any text
 *     putsOnBus: true
 *   MobileApp:
 *     jwt: { claim: client_id, value: cardflow-mobile }
 *   ExpenseTool:
 *     apiKey: expense-tool
 * ```
 */
import { isScalar, type Node } from 'yaml';
import { capitalize } from '../../../common/case.ts';
import { PASCAL_CASE, toPascalCase } from '../identifiers.ts';
import type { PublisherIdentity, SourceLocation } from '../types.ts';
import type { Entry, YamlReader } from '../yaml-reader.ts';

const PUBLISHER_KEYS = ['description', 'iam', 'jwt', 'apiKey', 'putsOnBus'] as const;
const JWT_KEYS = ['claim', 'value'] as const;
const IDENTITY_KEYS = ['iam', 'jwt', 'apiKey'] as const;
/** `arn:aws:iam::<account or *>:role/<path and name, * allowed>` or `...:user/...`, or an `assumed-role` ARN. */
const PRINCIPAL_PATTERN = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):(role|user|assumed-role)\/[\w+=,.@*/-]+$/;
/** API key names: what API Gateway accepts, kept simple. */
const API_KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A publisher as read, with the nodes later checks point at. */
export interface PublisherDraft {
  readonly name: string;
  readonly keyNode: Node;
  readonly description?: string;
  readonly identity?: PublisherIdentity;
  /** The node of the identity field (`iam`, `jwt` or `apiKey`), when written. */
  readonly identityNode?: Node;
  readonly putsOnBus: boolean;
  readonly location: SourceLocation;
}

/** Reads `publishers:`; reports names that are not PascalCase, unknown keys and malformed identities. */
export function readPublishers(reader: YamlReader, entry: Entry | undefined): PublisherDraft[] {
  if (!entry || reader.isNull(entry.value)) return [];
  const map = reader.asMap(entry.value);
  if (!map) {
    reader.wrongType(
      entry,
      'a mapping of publisher names',
      '"publishers"',
      'Write e.g. `publishers: { CardNetwork: { iam: "arn:aws:iam::*:role/card-network" } }`.',
    );
    return [];
  }
  const out: PublisherDraft[] = [];
  for (const item of reader.entries(map, '"publishers"')) {
    const name = item.key;
    if (!PASCAL_CASE.test(name)) {
      reader.diagnostics.error(
        reader.loc(item.keyNode),
        'invalid-name',
        `The publisher name "${name}" is not PascalCase.`,
        `Write "${toPascalCase(name)}".`,
      );
      continue;
    }
    const owner = `publisher ${name}`;
    const body = reader.asMap(item.value);
    if (!body && !reader.isNull(item.value)) {
      reader.wrongType(item, `a mapping (${PUBLISHER_KEYS.join(', ')})`, owner);
      continue;
    }
    const fields = body ? reader.fields(body, owner, PUBLISHER_KEYS) : new Map<string, Entry>();
    const description = reader.string(fields.get('description'), `"description" of ${owner}`);
    const written = IDENTITY_KEYS.filter((key) => fields.has(key));
    for (const extra of written.slice(1)) {
      reader.diagnostics.error(
        reader.loc(fields.get(extra)?.keyNode),
        'invalid-value',
        `${capitalize(owner)} has both "${written[0]}" and "${extra}"; a publisher proves who it is one way.`,
        'Keep one of them, or declare a second publisher for the other client.',
      );
    }
    const first = written[0];
    const identityEntry = first ? fields.get(first) : undefined;
    const identity = first && identityEntry ? readIdentity(reader, first, identityEntry, owner) : undefined;
    const putsOnBusEntry = fields.get('putsOnBus');
    let putsOnBus = false;
    if (putsOnBusEntry) {
      const node = putsOnBusEntry.value;
      if (isScalar(node) && typeof node.value === 'boolean') putsOnBus = node.value;
      else reader.wrongType(putsOnBusEntry, 'true or false', `"putsOnBus" of ${owner}`);
    }
    out.push({
      name,
      keyNode: item.keyNode,
      ...(description !== undefined ? { description } : {}),
      ...(identity ? { identity } : {}),
      ...(identityEntry ? { identityNode: identityEntry.keyNode } : {}),
      putsOnBus,
      location: reader.loc(item.keyNode),
    });
  }
  return out;
}

function readIdentity(
  reader: YamlReader,
  kind: (typeof IDENTITY_KEYS)[number],
  entry: Entry,
  owner: string,
): PublisherIdentity | undefined {
  if (kind === 'iam') {
    const principal = reader.string(entry, `"iam" of ${owner}`);
    if (principal === undefined) return undefined;
    if (!PRINCIPAL_PATTERN.test(principal)) {
      reader.diagnostics.error(
        reader.loc(entry.value),
        'invalid-value',
        `"${principal}" is not an IAM role or user ARN pattern.`,
        'Write e.g. `iam: arn:aws:iam::123456789012:role/card-network-gateway` (`*` matches any text).',
      );
      return undefined;
    }
    return { kind: 'iam', principal };
  }
  if (kind === 'apiKey') {
    const name = reader.string(entry, `"apiKey" of ${owner}`);
    if (name === undefined) return undefined;
    if (!API_KEY_NAME.test(name)) {
      reader.diagnostics.error(
        reader.loc(entry.value),
        'invalid-value',
        `"${name}" is not a usable API key name.`,
        'Use letters, digits, ".", "_" and "-", e.g. `apiKey: expense-tool`.',
      );
      return undefined;
    }
    return { kind: 'apiKey', name };
  }
  const map = reader.asMap(entry.value);
  if (!map) {
    reader.wrongType(
      entry,
      'a mapping (claim, value)',
      `"jwt" of ${owner}`,
      'Write e.g. `jwt: { claim: client_id, value: cardflow-mobile }`.',
    );
    return undefined;
  }
  const fields = reader.fields(map, `"jwt" of ${owner}`, JWT_KEYS);
  for (const key of JWT_KEYS)
    if (!fields.has(key))
      reader.missing(
        map,
        key,
        `"jwt" of ${owner}`,
        'Write e.g. `jwt: { claim: client_id, value: cardflow-mobile }` (or `claim: scope` with one scope).',
      );
  const claim = reader.string(fields.get('claim'), `"claim" of ${owner}`);
  const value = reader.string(fields.get('value'), `"value" of ${owner}`);
  return claim !== undefined && value !== undefined ? { kind: 'jwt', claim, value } : undefined;
}
