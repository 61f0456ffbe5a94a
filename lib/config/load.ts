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
 * `invalid-filter`, `filter-unknown-field`, `pattern-too-long`. Warnings: `unreachable-rpc`,
 * `unsubscribed-event`, `filter-unknown-payload-field`, `dedup-retention-short`, `dlq-retention-short`,
 * `yaml-warning`.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { DiagnosticBag } from './diagnostics.ts';
import { formatDuration } from './durations.ts';
import { checkHandlerEvents } from './handler-events.ts';
import { checkPublishes, checkSubscriptions } from './references.ts';
import { readApp } from './sections/app.ts';
import { readEvents } from './sections/events.ts';
import { readDefaults, readServices } from './sections/services.ts';
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

const TOP_LEVEL_KEYS = ['app', 'defaults', 'services', 'events'] as const;
const ONE_DAY = 86400;

/**
 * Loads and validates a router spec. Never throws for problems in the file (including a missing
 * file): they are all in `diagnostics`, and `spec` is present only when none of them is an error.
 */
export function loadSpec(file: string, options: LoadOptions = {}): LoadResult {
  const path = resolve(file);
  const bag = new DiagnosticBag();
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
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
  return loadSpecFromSource(source, path, options, bag);
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
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
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

  checkPublishes(reader, services.rpcs, new Set(events.map((e) => e.spec.name)));
  const subscriptions = checkSubscriptions(reader, events, services.rpcs, services.declared, complete);
  if (options.checkHandlers ?? true) checkHandlerEvents(bag, rootDir, services.rpcs, subscriptions);

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
    },
    events: events.map((e) => e.spec),
    services: services.services,
    subscriptions,
  };
  return { spec, diagnostics };
}

function longestRetention(rpcs: readonly RpcSpec[]): number {
  const settings = rpcs.length > 0 ? rpcs.map((r) => r.settings) : [DEFAULT_RPC_SETTINGS];
  return Math.max(...settings.map((s) => s.queueRetentionSeconds + s.dlqRetentionSeconds));
}

/** The longest queue + DLQ retention of any RPC, plus one day. */
function defaultDedupRetention(rpcs: readonly RpcSpec[]): number {
  return longestRetention(rpcs) + ONE_DAY;
}
