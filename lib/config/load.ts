/**
 * Loading `event-router.yaml`: parse, validate everything in one pass, and build the RouterSpec with
 * every default applied. Each problem is a Diagnostic pointing at the YAML node it is about.
 *
 * Diagnostic codes. Errors: `file-not-found`, `file-unreadable`, `yaml-syntax`, `duplicate-key`,
 * `empty-file`, `unknown-key`, `invalid-key`, `missing-field`, `wrong-type`, `out-of-range`,
 * `invalid-value`, `unused-setting`, `batching-window-required`, `invalid-name`, `invalid-event-name`,
 * `malformed-rpc-id`, `invalid-url`, `invalid-package`, `invalid-handler-path`, `duplicate-service`,
 * `duplicate-rpc`, `duplicate-event`, `duplicate-subscription`, `duplicate-publish`, `unknown-rpc`,
 * `unknown-event`, `handler-not-found`, `handler-not-exported`, `handler-in-remote`, `invalid-schema`,
 * `invalid-filter`, `filter-unknown-field`, `pattern-too-long`, `not-utf8`, `too-deep`, `alias-limit`,
 * `unsafe-pattern`, `unknown-meta-schema`, `bus-rule-quota`, `name-too-long`, `policy-too-large` (queue
 * policies, lib/config/policy-sizes.ts),
 * `duplicate-publisher`, `unknown-publisher`, `undeclared-follow-up`, `unauthorized-publisher`,
 * `publish-cycle`. Warnings: `unreachable-rpc`,
 * `unsubscribed-event`, `filter-unknown-payload-field`, `dedup-retention-short`, `dlq-retention-short`,
 * `unused-publisher`, `yaml-warning`.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { EVENTBRIDGE, NAME_LIMITS, QUEUE_POLICY_BYTES } from '../../common/aws-limits.ts';
import { publisherSource } from '../../common/naming.ts';
import { names } from '../naming.ts';
import { DiagnosticBag } from './diagnostics.ts';
import { formatDuration } from './durations.ts';
import { checkHandlerEvents } from './handler-events.ts';
import { checkPolicySizes } from './policy-sizes.ts';
import { checkPublishCycles, checkPublishers } from './publishers.ts';
import { checkPublishes, checkSubscriptions } from './references.ts';
import { groupRules } from './rule-groups.ts';
import { readApp } from './sections/app.ts';
import { readEvents } from './sections/events.ts';
import { readPublishers } from './sections/publishers.ts';
import { readDefaults, readServices } from './sections/services.ts';
import { bytePosition, firstInvalidUtf8, MAX_YAML_DEPTH, tooDeep } from './source-checks.ts';
import { DEFAULT_RPC_SETTINGS, type LoadResult, type RouterSpec, type RpcSpec } from './types.ts';
import { YamlReader } from './yaml-reader.ts';

export { type FormatOptions, formatDiagnostics, summarize } from './diagnostics.ts';

/** Options of loadSpec. */
export interface LoadOptions {
  /**
   * Check that every handler module exists and exports `handler`. Turn off only where the modules
   * are not at hand (e.g. reading a spec copied away from its project).
   * @default true
   */
  readonly checkHandlers?: boolean;
}

const TOP_LEVEL_KEYS = ['app', 'defaults', 'publishers', 'services', 'events'] as const;
const ONE_DAY = 86400;

/**
 * Loads and validates a router spec. Never throws for problems in the file (including a missing
 * file): they are all in `diagnostics`, and `spec` is present only when none of them is an error.
 */
export function loadSpec(file: string, options: LoadOptions = {}): LoadResult {
  const path = resolve(file);
  const bag = new DiagnosticBag();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const notFound = (error as NodeJS.ErrnoException).code === 'ENOENT';
    bag.error(
      { file: path, line: 1, col: 1 },
      notFound ? 'file-not-found' : 'file-unreadable',
      notFound ? `${file} does not exist.` : `${file} cannot be read: ${(error as Error).message}.`,
      notFound ? 'Pass the path of your event-router.yaml, or run the command in its directory.' : undefined,
    );
    return { diagnostics: bag.sorted() };
  }
  const invalid = firstInvalidUtf8(bytes);
  if (invalid !== undefined) {
    bag.error(
      { file: path, ...bytePosition(bytes, invalid) },
      'not-utf8',
      `${file} is not UTF-8: byte 0x${(bytes[invalid] ?? 0).toString(16).padStart(2, '0')} here does not start a valid UTF-8 character.`,
      'Save the file as UTF-8 (editors call it "UTF-8"; Latin-1 or Windows-1252 accents are the usual cause).',
    );
    return { diagnostics: bag.sorted() };
  }
  return loadSpecFromSource(bytes.toString('utf8'), path, options, bag);
}

/** Like loadSpec, for YAML text already in memory; `path` is where it came from (handlers are resolved beside it). */
export function loadSpecFromSource(
  source: string,
  path: string,
  options: LoadOptions = {},
  bag = new DiagnosticBag(),
): LoadResult {
  const file = resolve(path);
  const rootDir = dirname(file);
  const lines = new LineCounter();
  const deep = tooDeep(source);
  if (deep) {
    const before = source.slice(0, deep.offset);
    const line = before.split('\n').length;
    bag.error(
      { file, line, col: deep.offset - before.lastIndexOf('\n') },
      'too-deep',
      `The YAML nests ${deep.depth} levels deep here; the loader reads at most ${MAX_YAML_DEPTH}.`,
      'Flatten the structure: no schema, filter or setting needs this many levels.',
    );
    return { diagnostics: bag.sorted() };
  }
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    bag.error(
      { file, line: 1, col: 1 },
      'too-deep',
      `The YAML cannot be parsed: ${(error as Error).message}.`,
      'Flatten the structure: no schema, filter or setting needs this many levels.',
    );
    return { diagnostics: bag.sorted() };
  }
  const reader = new YamlReader(file, doc, lines, bag);
  let fatal = false;
  for (const error of doc.errors) {
    const duplicate = error.code === 'DUPLICATE_KEY';
    fatal ||= !duplicate;
    bag.error(
      reader.at(error.pos[0]),
      duplicate ? 'duplicate-key' : 'yaml-syntax',
      duplicate
        ? 'This key is already set earlier in the same mapping.'
        : `YAML syntax error: ${error.message}.`,
      duplicate
        ? 'Remove one of the two, or merge them.'
        : 'Fix the YAML syntax here (indentation, quotes, brackets).',
    );
  }
  for (const warning of doc.warnings)
    bag.warning(reader.at(warning.pos[0]), 'yaml-warning', `YAML: ${warning.message}.`);
  if (fatal) return { diagnostics: bag.sorted() };

  const root = reader.resolve(doc.contents);
  const map = reader.asMap(root);
  if (!map) {
    bag.error(
      reader.loc(root),
      reader.isNull(root) ? 'empty-file' : 'wrong-type',
      reader.isNull(root)
        ? 'The file is empty.'
        : 'The file must be a mapping with app, services and events.',
      'Start from this outline: `app: { name: my-app }`, then `services:` and `events:` sections.',
    );
    return { diagnostics: bag.sorted() };
  }
  const top = reader.fields(map, 'the top level', TOP_LEVEL_KEYS);
  const appEntry = top.get('app');
  if (!appEntry)
    reader.missing(map, 'app', 'the file', 'Add `app:` with at least `name: <kebab-case-name>`.');
  const app = readApp(reader, appEntry);
  const defaults = readDefaults(reader, top.get('defaults'));

  const servicesEntry = top.get('services');
  if (!servicesEntry)
    reader.missing(
      map,
      'services',
      'the file',
      'Add `services:` with the services and their RPCs that receive events.',
    );
  const services = servicesEntry
    ? readServices(reader, servicesEntry, defaults, rootDir, options.checkHandlers ?? true)
    : { services: [], rpcs: [], declared: new Set<string>() };

  const eventsEntry = top.get('events');
  if (!eventsEntry)
    reader.missing(
      map,
      'events',
      'the file',
      'Add `events:` with the events, their schemas and subscribers.',
    );
  const { events, complete } = eventsEntry
    ? readEvents(reader, eventsEntry)
    : { events: [], complete: false };

  const publisherDrafts = readPublishers(reader, top.get('publishers'));
  checkPublishes(reader, services.rpcs, new Set(events.map((e) => e.spec.name)));
  const subscriptions = checkSubscriptions(
    reader,
    events,
    services.rpcs,
    services.declared,
    complete,
    (event) => event.publisherRefs.map((ref) => publisherSource(app.name ?? 'app', ref.name)),
  );
  if (options.checkHandlers ?? true) checkHandlerEvents(bag, rootDir, services.rpcs, subscriptions);
  const publishers = checkPublishers(
    reader,
    publisherDrafts,
    events,
    services.rpcs,
    services.declared,
    app.publishApi.auth,
    complete,
  );
  checkPublishCycles(reader, services.rpcs, subscriptions);

  const allRpcs = services.services.flatMap((s) => s.rpcs);
  const dedupRetentionSeconds = app.dedupRetentionSeconds ?? defaultDedupRetention(allRpcs);
  if (app.dedupRetentionSeconds !== undefined) {
    const needed = longestRetention(allRpcs);
    if (app.dedupRetentionSeconds < needed)
      bag.warning(
        reader.loc(app.dedupRetentionNode),
        'dedup-retention-short',
        `dedupRetention ${formatDuration(app.dedupRetentionSeconds)} is shorter than the longest queue + DLQ retention (${formatDuration(needed)}): a message redriven late could run a completed delivery again.`,
        `Set it to at least ${formatDuration(needed + ONE_DAY)}, or remove it to get that default.`,
      );
  }

  if (bag.errorCount === 0) {
    checkRuleQuota(reader, app, services.services, subscriptions);
    checkQueuePolicies(reader, app, services.services, subscriptions);
    if (app.name !== undefined) {
      const publishersKey = top.get('publishers')?.keyNode;
      checkPolicySizes(reader, {
        app: app.name,
        stage: app.stage,
        auth: app.publishApi.auth,
        publishers,
        rpcs: allRpcs,
        ...(publishersKey ? { publishersLocation: reader.loc(publishersKey) } : {}),
      });
    }
  }

  const diagnostics = bag.sorted();
  if (bag.errorCount > 0 || app.name === undefined) return { diagnostics };
  const spec: RouterSpec = {
    file,
    rootDir,
    app: {
      name: app.name,
      stage: app.stage,
      archiveRetentionDays: app.archiveRetentionDays,
      dedupRetentionSeconds,
      publishApi: app.publishApi,
      ...(app.quotas ? { quotas: app.quotas } : {}),
      ...(app.alarms ? { alarms: app.alarms } : {}),
    },
    events: events.map((e) => e.spec),
    services: services.services,
    subscriptions,
    publishers,
  };
  return { spec, diagnostics };
}

/**
 * More rules than the bus may hold fail the deploy: an error, unless `app.quotas.rulesPerBus`
 * declares the raised quota. Rules are counted as the planner groups them (one per service, event
 * and filter, five targets each); splitting a very large service into stacks can only add rules.
 */
function checkRuleQuota(
  reader: YamlReader,
  app: ReturnType<typeof readApp>,
  services: readonly { readonly name: string; readonly rpcs: readonly RpcSpec[] }[],
  subscriptions: ReturnType<typeof checkSubscriptions>,
): void {
  const quota = app.quotas?.rulesPerBus ?? EVENTBRIDGE.rulesPerBus;
  const rules = services.reduce(
    (n, service) =>
      n + groupRules(subscriptions, service.name, new Set(service.rpcs.map((r) => r.id))).length,
    0,
  );
  if (rules <= quota) return;
  const declared = app.quotas?.rulesPerBus !== undefined;
  reader.diagnostics.error(
    reader.loc(app.quotaNode),
    'bus-rule-quota',
    declared
      ? `The subscriptions need ${rules} EventBridge rules on the bus, over the ${quota} declared in app.quotas.rulesPerBus.`
      : `The subscriptions need ${rules} EventBridge rules on the bus, over EventBridge's default quota of ${quota} rules per event bus; the deploy would fail.`,
    declared
      ? `Raise "Rules per event bus" (EventBridge) in Service Quotas to at least ${rules} and set app.quotas.rulesPerBus to it, or share filters so fewer rules are needed.`
      : `Raise "Rules per event bus" (EventBridge) in Service Quotas to at least ${rules}, then declare it: app: { quotas: { rulesPerBus: ${rules} } }. Or share filters between subscriptions so fewer rules are needed.`,
  );
}

/** Bytes of an RPC queue's resource policy besides the rule ARNs it lists (TLS-only deny, principals, Sid). */
const QUEUE_POLICY_BASE_BYTES = 1024;

/**
 * Each rule that delivers to an RPC's queue is listed by ARN in the queue's (and its DLQ's) resource
 * policy, which SQS holds to QUEUE_POLICY_BYTES: an RPC subscribed through too many rules cannot deploy.
 * ARNs are counted at their longest (longest region, a rule name of 64 characters).
 */
function checkQueuePolicies(
  reader: YamlReader,
  app: ReturnType<typeof readApp>,
  services: readonly { readonly name: string; readonly rpcs: readonly RpcSpec[] }[],
  subscriptions: ReturnType<typeof checkSubscriptions>,
): void {
  if (app.name === undefined) return;
  const bus = names.busName({ app: app.name, stage: app.stage });
  const arnBytes =
    `"arn:aws-us-gov:events:ap-southeast-2:123456789012:rule/${bus}/${'r'.repeat(NAME_LIMITS.ruleName)}",`
      .length;
  const most = Math.floor((QUEUE_POLICY_BYTES - QUEUE_POLICY_BASE_BYTES) / arnBytes);
  for (const service of services)
    for (const rpc of service.rpcs) {
      const rules = groupRules(subscriptions, service.name, new Set([rpc.id])).length;
      if (rules <= most) continue;
      reader.diagnostics.error(
        rpc.location,
        'policy-too-large',
        `${rpc.id} receives events through ${rules} rules; its queue policy would list every rule ARN and pass SQS's ${QUEUE_POLICY_BYTES}-byte policy limit (about ${most} rules fit).`,
        'Subscribe it to fewer events (or fewer distinct filters), or split it into several RPCs.',
      );
    }
}

function longestRetention(rpcs: readonly RpcSpec[]): number {
  const settings = rpcs.length > 0 ? rpcs.map((r) => r.settings) : [DEFAULT_RPC_SETTINGS];
  return Math.max(...settings.map((s) => s.queueRetentionSeconds + s.dlqRetentionSeconds));
}

/** The longest queue + DLQ retention of any RPC, plus one day. */
function defaultDedupRetention(rpcs: readonly RpcSpec[]): number {
  return longestRetention(rpcs) + ONE_DAY;
}
