/**
 * Renders `generated/publisher.ts`: `createPublisher(options)` bound to the router's events, so
 * `publish(name, payload)` takes exactly the payload type of `name` and validates against its schema.
 */
import { generatedHeader } from './events-file.ts';
import { LINE_WIDTH } from './literals.ts';

/** `head { a, b } from 'x';` on one line when it fits, else one name per line (as the formatter lays it out). */
function named(head: string, names: readonly string[], from: string): string {
  const flat = `${head} { ${names.join(', ')} } from ${from};`;
  if (flat.length <= LINE_WIDTH) return flat;
  return `${head} {\n${names.map((name) => `  ${name},`).join('\n')}\n} from ${from};`;
}

/**
 * The text of `generated/publisher.ts`. `publisherModule` is the import specifier of
 * common/publisher.ts as seen from the output directory.
 */
export function renderPublisherFile(
  publisherModule: string,
  publishers: readonly { readonly name: string; readonly source: string }[],
): string {
  const from = `'${publisherModule}'`;
  const sources =
    publishers.length === 0
      ? '{}'
      : `{\n${publishers.map((p) => `  ${p.name}: '${p.source}',`).join('\n')}\n}`;
  const example = publishers[0]?.name ?? 'MyPublisher';
  return `${generatedHeader('The typed publisher of this router.')}
${named('import', ['createEventPublisher', 'type Publisher', 'type PublisherOptions'], from)}
import { EVENT_SCHEMA_VERSIONS, EVENT_SCHEMAS, type EventPayloads } from './events.ts';

${named('export type', ['BatchEntry', 'PublisherOptions', 'PublishOptions', 'PublishResult'], from)}
${named('export', ['PublishError'], from)}

/** Publishes this router's events; payload types follow the event name. */
export type EventPublisher = Publisher<EventPayloads>;

/** The EventBridge source of each external publisher (under \`publishers:\` in event-router.yaml). */
export const PUBLISHER_SOURCES = ${sources} as const;

/** A declared external publisher of this router. */
export type PublisherName = keyof typeof PUBLISHER_SOURCES;

/** Options of {@link createPublisher}: the publisher to publish as, instead of a source. */
export type RouterPublisherOptions = Omit<PublisherOptions, 'publisher' | 'source'> & {
  readonly publisher: PublisherName;
};

/**
 * A publisher for this router's events, as one declared publisher: validates each payload against its
 * schema, wraps it in the envelope (\`metadata.eventId\`, \`correlationId\`, \`publisher\`, \`schemaVersion\`)
 * and puts it on the bus under that publisher's source, checking FailedEntryCount and retrying failed
 * entries. Its role needs the publisher's managed policy; events of other publishers are refused by IAM.
 *
 * @example
 * const events = createPublisher({ busName: 'cardflow-dev-bus', publisher: '${example}' });
 * const eventId = await events.publish('card.transaction.authorized', payload, { idempotencyKey: authorizationId });
 */
export function createPublisher(options: RouterPublisherOptions): EventPublisher {
  return createEventPublisher<EventPayloads>(
    { schemas: EVENT_SCHEMAS, schemaVersions: EVENT_SCHEMA_VERSIONS },
    { ...options, source: PUBLISHER_SOURCES[options.publisher] },
  );
}
`;
}
