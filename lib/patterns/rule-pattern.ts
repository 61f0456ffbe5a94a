import { EVENTBRIDGE } from '../../functions/commons/aws-limits.ts';
/**
 * The full EventBridge rule pattern of a subscription: the event name plus the content filter, which
 * applies to the envelope (`detail`). The loader (length check), the planner and the local runtime all
 * build it here, so they agree on it character for character.
 */

/** EventBridge's limit on the length of an event pattern, in characters. */
export const MAX_PATTERN_LENGTH = EVENTBRIDGE.patternChars;

/** `{"detail-type":[eventName],"detail":filter}` (no `detail` key without a filter). */
export function rulePatternFor(eventName: string, filter?: Record<string, unknown>): Record<string, unknown> {
  return filter === undefined
    ? { 'detail-type': [eventName] }
    : { 'detail-type': [eventName], detail: filter };
}
