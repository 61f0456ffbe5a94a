/**
 * The `defaults:` and `services:` sections: every RPC, its target and its effective settings.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import { isScalar, type Node } from 'yaml';
import { NAME_LIMITS } from '../../../common/aws-limits.ts';
import { kebabCase } from '../../../common/case.ts';
import { exportsHandler, missingHandlerHint } from '../handler-exports.ts';
import { PACKAGE_NAME, PASCAL_CASE, toPascalCase } from '../identifiers.ts';
import {
  checkBacklogAlarm,
  checkRemoteTimeout,
  checkRetentionCombination,
  checkSettingCombination,
  type ReadSettings,
  readSettings,
  SETTING_KEYS,
} from '../settings.ts';
import {
  DEFAULT_RPC_SETTINGS,
  type RpcSettings,
  type RpcSpec,
  type RpcTarget,
  type ServiceSpec,
} from '../types.ts';
import type { Entry, YamlReader } from '../yaml-reader.ts';

const SERVICE_KEYS = ['remote', 'rpcs'] as const;
const REMOTE_KEYS = ['baseUrl', 'package'] as const;
const RPC_KEYS = ['description', 'handler', 'publishes', 'intendedLoop', ...SETTING_KEYS];

/** An RPC with the nodes later checks point at. */
export interface RpcDraft {
  readonly spec: RpcSpec;
  readonly keyNode: Node;
  /** Each `publishes` entry with its node. */
  readonly publishes: readonly { readonly name: string; readonly node: Node }[];
  /** The `intendedLoop` value node, when written. */
  readonly intendedLoopNode?: Node;
}

export interface ServicesResult {
  readonly services: ServiceSpec[];
  readonly rpcs: RpcDraft[];
  /** Every RPC id declared, including those whose settings were invalid (so references to them are not reported again). */
  readonly declared: Set<string>;
}

/** Reads `defaults:` (settings only). */
export function readDefaults(reader: YamlReader, entry: Entry | undefined): ReadSettings {
  if (!entry || reader.isNull(entry.value)) return { values: {}, nodes: {} };
  const map = reader.asMap(entry.value);
  if (!map) {
    reader.wrongType(
      entry,
      'a mapping of RPC settings',
      '"defaults"',
      `Settings: ${SETTING_KEYS.join(', ')}.`,
    );
    return { values: {}, nodes: {} };
  }
  return readSettings(reader, reader.fields(map, '"defaults"', SETTING_KEYS), '"defaults"');
}

/** Reads `services:`. `rootDir` is the directory handler paths are relative to. */
export function readServices(
  reader: YamlReader,
  entry: Entry,
  defaults: ReadSettings,
  rootDir: string,
  checkHandlers: boolean,
): ServicesResult {
  const result: ServicesResult = { services: [], rpcs: [], declared: new Set() };
  const map = reader.asMap(entry.value);
  if (!map) {
    reader.wrongType(
      entry,
      'a mapping of service names to their RPCs',
      '"services"',
      'Write `services:` then, indented, `MyService:` with `rpcs:` below it.',
    );
    return result;
  }
  const reportedCombination = new Set<Node>();
  const physical = new Map<string, string>();
  for (const service of reader.entries(map, '"services"')) {
    const name = service.key;
    if (!checkPascal(reader, name, service.keyNode, 'service')) continue;
    const clash = physical.get(kebabCase(name));
    if (clash) {
      reader.diagnostics.error(
        reader.loc(service.keyNode),
        'duplicate-service',
        `Service "${name}" has the same resource name "${kebabCase(name)}" as service "${clash}".`,
        'Rename one of them so their kebab-case forms differ, or merge their RPCs into one service.',
      );
      continue;
    }
    physical.set(kebabCase(name), name);
    const serviceMap = reader.asMap(service.value);
    if (!serviceMap) {
      reader.wrongType(
        service,
        'a mapping with `rpcs:`',
        `service "${name}"`,
        `Write \`${name}:\` then, indented, \`rpcs:\` and the RPC names below it.`,
      );
      continue;
    }
    const fields = reader.fields(serviceMap, `service "${name}"`, SERVICE_KEYS);
    const remote = readRemote(reader, fields.get('remote'), name);
    const rpcsEntry = fields.get('rpcs');
    const rpcsMap = reader.asMap(rpcsEntry?.value);
    const rpcs: RpcSpec[] = [];
    if (!rpcsEntry) {
      reader.missing(
        service.keyNode,
        'rpcs',
        `service "${name}"`,
        `Add \`rpcs:\` under ${name} with at least one RPC, e.g. \`rpcs: { DoSomething: {} }\`.`,
      );
    } else if (!rpcsMap || rpcsMap.items.length === 0) {
      reader.wrongType(
        rpcsEntry,
        'a mapping of at least one RPC name',
        `"rpcs" of service "${name}"`,
        'Write each RPC as `MethodName:` (optionally with its settings below it).',
      );
    } else {
      const methods = new Map<string, string>();
      for (const rpcEntry of reader.entries(rpcsMap, `"rpcs" of service "${name}"`)) {
        if (!checkPascal(reader, rpcEntry.key, rpcEntry.keyNode, 'RPC method', name)) continue;
        const methodClash = methods.get(kebabCase(rpcEntry.key));
        if (methodClash) {
          reader.diagnostics.error(
            reader.loc(rpcEntry.keyNode),
            'duplicate-rpc',
            `RPC "${name}/${rpcEntry.key}" has the same resource names as "${name}/${methodClash}".`,
            'Rename one of them so their kebab-case forms differ.',
          );
          continue;
        }
        methods.set(kebabCase(rpcEntry.key), rpcEntry.key);
        result.declared.add(`${name}/${rpcEntry.key}`);
        const draft = readRpc(
          reader,
          rpcEntry,
          name,
          remote,
          defaults,
          { rootDir, checkHandlers },
          reportedCombination,
        );
        if (draft) {
          rpcs.push(draft.spec);
          result.rpcs.push(draft);
        }
      }
    }
    result.services.push({ name, rpcs, location: reader.loc(service.keyNode) });
  }
  return result;
}

function checkPascal(reader: YamlReader, name: string, node: Node, what: string, service?: string): boolean {
  const max = what === 'service' ? NAME_LIMITS.serviceName : NAME_LIMITS.methodName;
  if (PASCAL_CASE.test(name) && name.length > max) {
    reader.diagnostics.error(
      reader.loc(node),
      'name-too-long',
      `The ${what} name "${name.slice(0, 40)}..." is ${name.length} characters long; at most ${max} are allowed (it is embedded in rule input templates, descriptions and IAM conditions, which AWS limits).`,
      `Shorten it to ${max} characters or fewer.`,
    );
    return false;
  }
  if (PASCAL_CASE.test(name)) return true;
  const fix = toPascalCase(name);
  const id = service ? `"${service}/${name}"` : `"${name}"`;
  reader.diagnostics.error(
    reader.loc(node),
    'malformed-rpc-id',
    `The ${what} name in ${id} must be PascalCase (letters and digits, starting with a capital letter).`,
    fix && PASCAL_CASE.test(fix)
      ? `Write "${fix}".`
      : 'Use a name like "NotificationService" or "NotifyCardholder".',
  );
  return false;
}

type RemoteTarget = Extract<RpcTarget, { kind: 'remote' }>;

function readRemote(
  reader: YamlReader,
  entry: Entry | undefined,
  service: string,
): RemoteTarget | 'invalid' | undefined {
  if (!entry) return undefined;
  const map = reader.asMap(entry.value);
  if (!map) {
    reader.wrongType(entry, 'a mapping with baseUrl and package', `"remote" of service "${service}"`);
    return 'invalid';
  }
  const fields = reader.fields(map, `"remote" of service "${service}"`, REMOTE_KEYS);
  const what = `"remote" of service "${service}"`;
  if (!fields.has('baseUrl'))
    reader.missing(
      entry.keyNode,
      'baseUrl',
      what,
      'Add `baseUrl: https://<host>` (the service is called at <baseUrl>/<package>.<Service>/<Method>).',
    );
  if (!fields.has('package'))
    reader.missing(
      entry.keyNode,
      'package',
      what,
      'Add `package: <dotted.lower.case>`, e.g. `package: acme.fraud.v1`.',
    );
  const baseUrlEntry = fields.get('baseUrl');
  let baseUrl = reader.string(baseUrlEntry, '"baseUrl"');
  if (baseUrl !== undefined && !isHttpUrl(baseUrl)) {
    reader.diagnostics.error(
      reader.loc(baseUrlEntry?.value),
      'invalid-url',
      `"${baseUrl}" is not an http(s) URL.`,
      'Write the base URL with its scheme, e.g. https://fraud.internal.example.com.',
    );
    baseUrl = undefined;
  }
  const packageEntry = fields.get('package');
  let pkg = reader.string(packageEntry, '"package"');
  if (pkg !== undefined && !PACKAGE_NAME.test(pkg)) {
    reader.diagnostics.error(
      reader.loc(packageEntry?.value),
      'invalid-package',
      `"${pkg}" is not a package name: lower-case words separated by dots.`,
      `Write e.g. "${pkg.toLowerCase().replace(/[^a-z0-9_.]+/g, '') || 'acme.fraud.v1'}".`,
    );
    pkg = undefined;
  }
  if (baseUrl === undefined || pkg === undefined) return 'invalid';
  return { kind: 'remote', baseUrl: baseUrl.replace(/\/+$/, ''), package: pkg };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') && url.host !== '' && !url.search && !url.hash
    );
  } catch {
    return false;
  }
}

function readRpc(
  reader: YamlReader,
  entry: Entry,
  service: string,
  remote: RemoteTarget | 'invalid' | undefined,
  defaults: ReadSettings,
  handlers: HandlerCheck,
  reportedCombination: Set<Node>,
): RpcDraft | undefined {
  const method = entry.key;
  const id = `${service}/${method}`;
  const owner = `RPC ${id}`;
  let fields = new Map<string, Entry>();
  if (!reader.isNull(entry.value)) {
    const map = reader.asMap(entry.value);
    if (!map) {
      reader.wrongType(
        entry,
        'a mapping of settings or empty',
        owner,
        `Write \`${method}:\` alone, or with settings such as \`description:\` and \`timeout:\` indented below it.`,
      );
      return undefined;
    }
    fields = reader.fields(map, owner, RPC_KEYS);
  }
  const own = readSettings(reader, fields, owner);
  const settings: RpcSettings = { ...DEFAULT_RPC_SETTINGS, ...defaults.values, ...own.values };
  const nodes = { ...defaults.nodes, ...own.nodes };
  const combinationNode = nodes.batchSize;
  if (!combinationNode || !reportedCombination.has(combinationNode)) {
    const fromDefaults = combinationNode !== undefined && combinationNode === defaults.nodes.batchSize;
    const before = reader.diagnostics.items.length;
    checkSettingCombination(reader, settings, nodes, fromDefaults ? '"defaults"' : owner, entry.keyNode);
    if (combinationNode && reader.diagnostics.items.length > before) reportedCombination.add(combinationNode);
  }
  // Retentions both from `defaults:` are reported once there, not once per RPC.
  const dlqNode = nodes.dlqRetentionSeconds;
  const retentionFromDefaults =
    dlqNode !== undefined &&
    dlqNode === defaults.nodes.dlqRetentionSeconds &&
    nodes.queueRetentionSeconds === defaults.nodes.queueRetentionSeconds;
  if (!retentionFromDefaults || !reportedCombination.has(dlqNode)) {
    const warned = checkRetentionCombination(
      reader,
      settings,
      nodes,
      retentionFromDefaults ? 'every RPC that takes its retentions from "defaults"' : owner,
      entry.keyNode,
    );
    if (warned && retentionFromDefaults) reportedCombination.add(dlqNode);
  }
  // A backlog alarm from `defaults:` that outlives a retention from `defaults:` is reported once there.
  const ageNode = nodes.alarmBacklogAgeSeconds;
  const ageFromDefaults =
    ageNode !== undefined &&
    ageNode === defaults.nodes.alarmBacklogAgeSeconds &&
    nodes.queueRetentionSeconds === defaults.nodes.queueRetentionSeconds;
  if (!ageFromDefaults || !reportedCombination.has(ageNode)) {
    const reported = checkBacklogAlarm(
      reader,
      settings,
      nodes,
      ageFromDefaults ? 'every RPC that takes it from "defaults"' : owner,
      entry.keyNode,
    );
    if (reported && ageFromDefaults) reportedCombination.add(ageNode);
  }
  const description = reader.string(fields.get('description'), `"description" of ${owner}`);
  const handlerEntry = fields.get('handler');
  let target: RpcTarget | undefined;
  if (remote !== undefined) {
    if (handlerEntry)
      reader.diagnostics.error(
        reader.loc(handlerEntry.keyNode),
        'handler-in-remote',
        `${owner} belongs to a remote service, so it cannot have a handler.`,
        `Remove "handler", or remove "remote" from service ${service} to run its RPCs here.`,
      );
    target = remote === 'invalid' ? undefined : remote;
    checkRemoteTimeout(reader, settings, nodes, owner, entry.keyNode);
  } else {
    target = readHandler(reader, handlerEntry, entry.keyNode, service, method, handlers);
  }
  const publishes = readPublishes(reader, fields.get('publishes'), owner);
  const loopEntry = fields.get('intendedLoop');
  const intendedLoop = loopEntry ? readBoolean(reader, loopEntry, `"intendedLoop" of ${owner}`) : false;
  if (!target) return undefined;
  const spec: RpcSpec = {
    id,
    service,
    method,
    ...(description !== undefined ? { description } : {}),
    target,
    settings,
    publishes: publishes.map((p) => p.name),
    intendedLoop,
    location: reader.loc(entry.keyNode),
  };
  return {
    spec,
    keyNode: entry.keyNode,
    publishes,
    ...(loopEntry?.value ? { intendedLoopNode: loopEntry.value } : {}),
  };
}

function readBoolean(reader: YamlReader, entry: Entry, what: string): boolean {
  const node = entry.value;
  if (isScalar(node) && typeof node.value === 'boolean') return node.value;
  reader.wrongType(entry, 'true or false', what, 'Write `intendedLoop: true` to accept the loop.');
  return false;
}

interface HandlerCheck {
  readonly rootDir: string;
  readonly checkHandlers: boolean;
}

/** The conventional handler path of an RPC, relative to the root directory. */
function defaultHandlerPath(service: string, method: string): string {
  return `functions/rpcs/${kebabCase(service)}/${kebabCase(method)}.ts`;
}

function readHandler(
  reader: YamlReader,
  entry: Entry | undefined,
  rpcKeyNode: Node,
  service: string,
  method: string,
  { rootDir, checkHandlers }: HandlerCheck,
): RpcTarget | undefined {
  const owner = `RPC ${service}/${method}`;
  let path = defaultHandlerPath(service, method);
  if (entry) {
    const written = reader.string(
      entry,
      `"handler" of ${owner}`,
      'Write the module path relative to event-router.yaml, e.g. functions/rpcs/x/y.ts.',
    );
    if (written === undefined) return undefined;
    if (isAbsolute(written)) {
      reader.diagnostics.error(
        reader.loc(entry.value),
        'invalid-handler-path',
        `The handler path "${written}" of ${owner} is absolute.`,
        'Write it relative to the directory of event-router.yaml, so the project builds on any machine.',
      );
      return undefined;
    }
    path = normalize(written).split(sep).join('/');
    if (path === '..' || path.startsWith('../')) {
      reader.diagnostics.error(
        reader.loc(entry.value),
        'invalid-handler-path',
        `The handler path "${written}" of ${owner} leads outside the project (the directory of event-router.yaml).`,
        'Keep handler modules inside the project, e.g. functions/rpcs/<service>/<method>.ts; nothing outside it is bundled.',
      );
      return undefined;
    }
  }
  if (!checkHandlers) return { kind: 'handler', handler: path };
  const node = entry?.value ?? rpcKeyNode;
  const full = resolve(rootDir, path);
  const shown = relative(rootDir, full).split(sep).join('/');
  if (!existsSync(full) || !statSync(full).isFile()) {
    reader.diagnostics.error(
      reader.loc(node),
      'handler-not-found',
      `The handler module of ${owner} does not exist: ${shown}.`,
      entry
        ? `Create ${shown} exporting \`handler\`, or fix the "handler" path (relative to event-router.yaml).`
        : `Create ${shown} exporting \`handler\` (the default place for this RPC), or set "handler:" to where the module is.`,
    );
    return { kind: 'handler', handler: path };
  }
  const source = readFileSync(full, 'utf8');
  if (!exportsHandler(source)) {
    reader.diagnostics.error(
      reader.loc(node),
      'handler-not-exported',
      `The handler module of ${owner} (${shown}) does not export \`handler\`.`,
      missingHandlerHint(source),
    );
  }
  return { kind: 'handler', handler: path };
}

function readPublishes(
  reader: YamlReader,
  entry: Entry | undefined,
  owner: string,
): { name: string; node: Node }[] {
  if (!entry || reader.isNull(entry.value)) return [];
  const seq = reader.asSeq(entry.value);
  if (!seq) {
    reader.wrongType(
      entry,
      'a list of event names',
      `"publishes" of ${owner}`,
      'Write e.g. `publishes: [ledger.entry.recorded]`.',
    );
    return [];
  }
  const out: { name: string; node: Node }[] = [];
  for (const item of seq.items) {
    const node = reader.resolve(item) ?? seq;
    const name = reader.stringOf(node);
    if (name === undefined || name === '') {
      reader.wrongType(node, 'an event name', `an entry of "publishes" of ${owner}`);
      continue;
    }
    if (out.some((p) => p.name === name)) {
      reader.diagnostics.error(
        reader.loc(node),
        'duplicate-publish',
        `${owner} lists "${name}" twice in "publishes".`,
        'Remove the second entry.',
      );
      continue;
    }
    out.push({ name, node });
  }
  return out;
}
