/**
 * The EventBridge API on JSON 1.1 (`X-Amz-Target: AWSEvents.<Op>`): PutEvents, TestEventPattern and
 * the read-only listings tools use (ListEventBuses, ListRules, ListTargetsByRule, DescribeEventBus), and
 * archives and replays (archives.ts).
 */
import { compilePattern, invalidPatternMessage, validatePattern } from '../../../patterns/index.ts';
import { eventsErrors } from '../aws-error.ts';
import type { EventArchives } from './archives.ts';
import type { EventBuses } from './bus.ts';

type Input = Record<string, unknown>;

function parseJson(text: unknown, what: string): unknown {
  if (typeof text !== 'string') throw eventsErrors.validation(`${what} is required.`);
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** TestEventPattern: whether `Event` matches `EventPattern`; invalid patterns raise InvalidEventPatternException. */
export function testEventPattern(input: Input): { Result: boolean } {
  const pattern = parseJson(input.EventPattern, 'EventPattern');
  if (pattern === undefined)
    throw eventsErrors.invalidEventPattern('Event pattern is not valid. Reason: Filter is not valid JSON.');
  const problems = validatePattern(pattern);
  if (problems.length > 0) throw eventsErrors.invalidEventPattern(invalidPatternMessage(problems));
  const event = parseJson(input.Event, 'Event');
  if (event === undefined || event === null || typeof event !== 'object' || Array.isArray(event))
    throw eventsErrors.validation('Parameter Event is not valid.');
  for (const field of ['id', 'account', 'source', 'time', 'region', 'detail-type'])
    if (!(field in event))
      throw eventsErrors.validation(`Parameter Event is not valid. Reason: Field "${field}" is required.`);
  return { Result: compilePattern(pattern)(event) };
}

/** The rule of that name on that bus (default: `default`), or EventBridge's ResourceNotFoundException. */
function findRule(buses: EventBuses, name: unknown, busName: unknown) {
  const bus =
    typeof busName === 'string' && busName !== '' ? (busName.split('/').pop() ?? 'default') : 'default';
  const rule = buses.ruleList().find((r) => r.name === name && r.busName === bus);
  if (!rule) throw eventsErrors.resourceNotFound(`Rule ${String(name)} does not exist on EventBus ${bus}.`);
  return rule;
}

export function createEventsApi(buses: EventBuses, archives?: EventArchives) {
  const ops: Record<string, (input: Input) => unknown> = {
    ...archives?.operations(),
    PutEvents: (input) => buses.putEvents(input),
    TestEventPattern: testEventPattern,
    ListEventBuses: () => ({
      EventBuses: buses.busNames().map((name) => ({ Name: name, Arn: buses.busArn(name) })),
    }),
    DescribeEventBus: (input) => {
      const name = typeof input.Name === 'string' ? (input.Name.split('/').pop() ?? 'default') : 'default';
      if (!buses.busNames().includes(name))
        throw eventsErrors.resourceNotFound(`Event bus ${name} does not exist.`);
      return { Name: name, Arn: buses.busArn(name) };
    },
    ListRules: (input) => {
      const bus = typeof input.EventBusName === 'string' ? input.EventBusName.split('/').pop() : 'default';
      const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
      return {
        Rules: buses
          .ruleList()
          .filter((r) => r.busName === bus && r.name.startsWith(prefix))
          .map((r) => ({
            Name: r.name,
            Arn: buses.ruleArn(r.busName, r.name),
            EventPattern: JSON.stringify(r.pattern),
            State: r.enabled ? 'ENABLED' : 'DISABLED',
            EventBusName: r.busName,
          })),
      };
    },
    DescribeRule: (input) => {
      const rule = findRule(buses, input.Name, input.EventBusName);
      return {
        Name: rule.name,
        Arn: buses.ruleArn(rule.busName, rule.name),
        EventPattern: JSON.stringify(rule.pattern),
        State: rule.enabled ? 'ENABLED' : 'DISABLED',
        EventBusName: rule.busName,
      };
    },
    ListTargetsByRule: (input) => {
      const rule = findRule(buses, input.Rule, input.EventBusName);
      return {
        Targets: rule.targets.map((t) => ({
          Id: t.id,
          Arn: t.arn,
          InputTransformer: t.inputTransformer,
          DeadLetterConfig: t.deadLetterArn ? { Arn: t.deadLetterArn } : undefined,
          RetryPolicy: {
            MaximumRetryAttempts: t.retryPolicy.maximumRetryAttempts,
            MaximumEventAgeInSeconds: t.retryPolicy.maximumEventAgeInSeconds,
          },
        })),
      };
    },
  };
  return async (operation: string, input: Input): Promise<unknown> => {
    // Own properties only: `__proto__` or `constructor` are not operations.
    const op = Object.hasOwn(ops, operation) ? ops[operation] : undefined;
    if (!op) throw eventsErrors.unknownOperation(operation);
    return op(input);
  };
}
