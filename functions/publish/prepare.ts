/**
 * From validated input to PutEvents entries: known event, payload against its schema, envelope, size.
 * Shared by the publish API, the typed publisher and the CLI, so each refuses the same things.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { PayloadValidator } from '../commons/payload-schema.ts';
import { buildEnvelope, entrySize, type PublishInput, toPutEventsEntry } from './envelope.ts';
import { MAX_ENTRY_BYTES } from './limits.ts';
import type { FieldProblem } from './request.ts';
import { closestNames } from './suggest.ts';

export interface PrepareContext {
  readonly validator: PayloadValidator;
  /** Event name -> schema version; 1 when absent. */
  readonly schemaVersions: Readonly<Record<string, number>>;
  readonly publisher: string;
  readonly busName: string;
  readonly source: string;
  readonly now?: () => Date;
}

/** An entry ready to send. */
export interface PreparedEntry {
  readonly event: string;
  readonly eventId: string;
  readonly entry: PutEventsRequestEntry;
}

export interface PrepareResult {
  readonly entries: readonly PreparedEntry[];
  readonly problems: readonly FieldProblem[];
  /** True when the only problems are entries over the size limit (answer 413). */
  readonly onlyTooLarge: boolean;
}

function join(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/** Checks and builds every entry; `problems` lists everything wrong with any of them. */
export function prepareEntries(
  inputs: readonly { readonly input: PublishInput; readonly field: string }[],
  context: PrepareContext,
): PrepareResult {
  const problems: FieldProblem[] = [];
  let tooLarge = 0;
  const entries: PreparedEntry[] = [];
  for (const { input, field } of inputs) {
    if (!context.validator.has(input.event)) {
      const suggestions = closestNames(input.event, context.validator.eventNames);
      problems.push({
        field: join(field, 'event'),
        message: `"${input.event}" is not an event of this router.${
          suggestions.length > 0
            ? ` Closest known events: ${suggestions.join(', ')}.`
            : ' The router declares no events.'
        }`,
        suggestions,
      });
      continue;
    }
    const violations = context.validator.validate(input.event, input.payload);
    for (const violation of violations)
      problems.push({
        field: join(field, 'payload'),
        pointer: violation.pointer,
        message: `${violation.pointer || '(payload)'} ${violation.message}`,
      });
    if (violations.length > 0) continue;
    const envelope = buildEnvelope(input, {
      publisher: context.publisher,
      schemaVersion: context.schemaVersions[input.event] ?? 1,
      ...(context.now ? { now: context.now } : {}),
    });
    const entry = toPutEventsEntry(input.event, envelope, {
      busName: context.busName,
      source: context.source,
    });
    const size = entrySize(entry);
    if (size > MAX_ENTRY_BYTES) {
      tooLarge++;
      problems.push({
        field: field || 'payload',
        message: `is ${size} bytes as an EventBridge entry (envelope + event name + source); the limit is ${MAX_ENTRY_BYTES} bytes (1 MiB less what a rule adds on the way to a subscriber's queue). Store large content elsewhere and publish a reference to it.`,
      });
      continue;
    }
    entries.push({ event: input.event, eventId: envelope.metadata.eventId, entry });
  }
  return { entries, problems, onlyTooLarge: tooLarge > 0 && tooLarge === problems.length };
}
