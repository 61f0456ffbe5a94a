/**
 * EventBridge event patterns: validation, matching and the rule pattern of a subscription.
 */
export { compilePattern, matchesPattern, type PatternMatcher } from './match.ts';
export { MAX_PATTERN_LENGTH, rulePatternFor } from './rule-pattern.ts';
export {
  findPatternProblems,
  invalidPatternMessage,
  type PatternProblem,
  validatePattern,
} from './validate.ts';
