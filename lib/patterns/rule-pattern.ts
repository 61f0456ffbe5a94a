import { EVENTBRIDGE } from '../../common/aws-limits.ts';
/**
 * The full EventBridge rule pattern of a subscription: the sources of the event's declared publishers,
 * the event name, and the content filter, which applies to the envelope (`detail`). The loader (length
 * check), the planner and the local runtime all build it here, so they agree on it character for character.
 */

/** EventBridge's limit on the length of an event pattern, in characters. */
export const MAX_PATTERN_LENGTH = EVENTBRIDGE.patternChars;

/**
 * `{"source":[...sources],"detail-type":[eventName],"detail":filter}` (no `detail` key without a filter).
 * An event put on the bus under any other source matches no rule, so it is delivered to nobody.
 */
export function rulePatternFor(
  eventName: string,
  sources: readonly string[],
  filter?: Record<string, unknown>,
): Record<string, unknown> {
  if (sources.length === 0)
    throw new Error(`Event "${eventName}" has no publisher: a rule needs at least one source to match.`);
  const pattern = { source: [...sources], 'detail-type': [eventName] };
  return filter === undefined ? pattern : { ...pattern, detail: filter };
}
