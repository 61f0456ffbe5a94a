/**
 * Reading an event pattern: every rule EventBridge applies when it accepts a pattern, and the
 * compiled form the matcher runs. Problems are worded as EventBridge words them (the reason part of
 * "Event pattern is not valid. Reason: ...") and carry the path of the offending part.
 */
import { type IpRange, inRange, ipRangeOf, looksLikeIp, parseCidr } from './ip.ts';
import {
  MAX_WILDCARD_COMPLEXITY,
  parseWildcard,
  type WildcardToken,
  wildcardComplexity,
  wildcardRegExp,
} from './wildcard.ts';

/** One reason a pattern is rejected; `path` locates the offending part (object keys and array indexes). */
export interface PatternProblem {
  readonly message: string;
  readonly path: readonly (string | number)[];
}

/** A value of an event leaf: what a pattern compares. */
export type Leaf = string | number | boolean | null;

/** One field of a branch: the event path (keys joined by dots) and its alternatives. */
export interface CompiledField {
  readonly path: string;
  /** Matches when any of these accepts a value at the path. */
  readonly tests: readonly ((value: Leaf) => boolean)[];
  /** `exists: true` among the alternatives: any value at the path will do. */
  readonly existsTrue: boolean;
  /** `exists: false` among the alternatives: no value at the path will do. */
  readonly existsFalse: boolean;
}

/** All fields must match (AND); a pattern is a list of branches (OR, from `$or`). */
export type CompiledBranch = readonly CompiledField[];

export interface CompileResult {
  readonly problems: PatternProblem[];
  readonly branches: CompiledBranch[];
}

type Path = (string | number)[];
type Json = unknown;

const OR = '$or';
/** Field names that cannot appear inside `$or` (they are, or may become, match operators). */
const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);
/** EventBridge compares numbers between these bounds. */
const NUMBER_LIMIT = 5e9;

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: Json): v is string => typeof v === 'string';
const isNumber = (v: Json): v is number => typeof v === 'number' && Number.isFinite(v);
const describe = (v: Json): string => (v === undefined ? ']' : isString(v) ? v : JSON.stringify(v));

/** Parses and checks a pattern; `branches` is meaningful only when there are no problems. */
export function compile(pattern: Json): CompileResult {
  const problems: PatternProblem[] = [];
  const wildcards = new Map<string, WildcardToken[][]>();
  const context: Context = { problems, wildcards };
  if (!isObject(pattern))
    return { problems: [{ message: 'Filter is not an object', path: [] }], branches: [] };
  const branches = readObject(context, pattern, [], '', [new Map()], false);
  for (const [path, list] of wildcards) {
    if (wildcardComplexity(list) > MAX_WILDCARD_COMPLEXITY)
      problems.push({
        message:
          'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
        path: path.split('.'),
      });
  }
  return { problems, branches: branches.map((b) => [...b.values()]) };
}

interface Context {
  readonly problems: PatternProblem[];
  /** Wildcards per field path, for the complexity limit. */
  readonly wildcards: Map<string, WildcardToken[][]>;
}

type Building = Map<string, CompiledField>;

function readObject(
  ctx: Context,
  object: Record<string, Json>,
  at: Path,
  prefix: string,
  branches: Building[],
  insideOr: boolean,
): Building[] {
  const keys = Object.keys(object);
  if (keys.length === 0) ctx.problems.push({ message: 'Empty objects are not allowed', path: at });
  let current = branches;
  for (const key of keys) {
    const value = object[key];
    const here = [...at, key];
    if (key === OR) {
      current = readOr(ctx, value, here, prefix, current);
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      ctx.problems.push({
        message: `${key} is Ruler reserved fieldName which cannot be used inside $or.`,
        path: here,
      });
      continue;
    }
    const path = prefix ? `${prefix}.${key}` : key;
    if (isObject(value)) {
      current = readObject(ctx, value, here, path, current, insideOr);
    } else if (Array.isArray(value)) {
      const field = readValueList(ctx, value, here, path);
      for (const branch of current) branch.set(path, field);
    } else {
      ctx.problems.push({ message: `"${key}" must be an object or an array`, path: here });
    }
  }
  return current;
}

function readOr(ctx: Context, value: Json, at: Path, prefix: string, branches: Building[]): Building[] {
  if (!Array.isArray(value)) {
    ctx.problems.push({ message: 'It must be an Array followed with $or.', path: at });
    return branches;
  }
  const out: Building[] = [];
  value.forEach((item, i) => {
    if (!isObject(item)) {
      ctx.problems.push({
        message: 'Only JSON object is allowed in array of $or relationship.',
        path: [...at, i],
      });
      return;
    }
    const copies = branches.map((b) => new Map(b));
    out.push(...readObject(ctx, item, [...at, i], prefix, copies, true));
  });
  if (value.length < 2)
    ctx.problems.push({ message: 'There must have at least 2 Objects in $or relationship.', path: at });
  return out.length > 0 ? out : branches;
}

function readValueList(ctx: Context, list: Json[], at: Path, path: string): CompiledField {
  if (list.length === 0) ctx.problems.push({ message: 'Empty arrays are not allowed', path: at });
  const tests: ((value: Leaf) => boolean)[] = [];
  let existsTrue = false;
  let existsFalse = false;
  list.forEach((item, i) => {
    const here = [...at, i];
    if (isObject(item)) {
      const matcher = readMatcher(ctx, item, here, path);
      if (matcher === 'exists') existsTrue = true;
      else if (matcher === 'absent') existsFalse = true;
      else if (matcher) tests.push(matcher);
    } else if (isString(item)) {
      tests.push(exactString(item));
    } else if (isNumber(item)) {
      tests.push((v) => v === item);
    } else if (item === null || item === true || item === false) {
      tests.push((v) => v === item);
    } else {
      ctx.problems.push({ message: 'Match value must be String, number, true, false, or null', path: here });
    }
  });
  return { path, tests, existsTrue, existsFalse };
}

/** Exact string; a string that is an IP address also matches other spellings of that address. */
function exactString(expected: string): (value: Leaf) => boolean {
  const range = looksLikeIp(expected) ? ipRangeOf(expected) : undefined;
  if (range) return (v) => v === expected || (isString(v) && inRange(range, v));
  return (v) => v === expected;
}

type Matcher = ((value: Leaf) => boolean) | 'exists' | 'absent' | undefined;

function readMatcher(ctx: Context, expression: Record<string, Json>, at: Path, path: string): Matcher {
  const keys = Object.keys(expression);
  const problem = (message: string, where: Path = at) => {
    ctx.problems.push({ message, path: where });
    return undefined;
  };
  const [name] = keys;
  if (name === undefined) return problem('Match expression name not found');
  const value = expression[name];
  const here = [...at, name];
  const onlyOneKey = () =>
    keys.length > 1 ? problem('Only one key allowed in match expression', [...at, keys[1] as string]) : true;
  switch (name) {
    case 'prefix':
    case 'suffix': {
      const test = readAffix(ctx, name, value, here);
      if (!onlyOneKey()) return undefined;
      return test;
    }
    case 'equals-ignore-case': {
      if (!isString(value)) return problem('equals-ignore-case match pattern must be a string', here);
      if (!onlyOneKey()) return undefined;
      const lower = value.toLowerCase();
      return (v) => isString(v) && v.toLowerCase() === lower;
    }
    case 'wildcard': {
      if (!isString(value)) return problem('wildcard match pattern must be a string', here);
      const parsed = parseWildcard(value);
      if ('error' in parsed) return problem(parsed.error, here);
      if (!onlyOneKey()) return undefined;
      addWildcard(ctx, path, parsed.tokens);
      const re = wildcardRegExp(parsed.tokens);
      return (v) => isString(v) && re.test(v);
    }
    case 'exists': {
      if (value !== true && value !== false)
        return problem('exists match pattern must be either true or false.', here);
      if (!onlyOneKey()) return undefined;
      return value ? 'exists' : 'absent';
    }
    case 'cidr': {
      if (!isString(value)) return problem('prefix match pattern must be a string', here);
      const range = parseCidr(value);
      if ('error' in range) return problem(range.error, here);
      if (!onlyOneKey()) return undefined;
      return cidrTest(range);
    }
    case 'numeric': {
      if (!Array.isArray(value)) return problem('Value of numeric must be an array.', here);
      const test = readNumeric(value, (message) => problem(message, here));
      if (!test) return undefined;
      if (keys.length > 1)
        return problem('Too many elements in numeric expression', [...at, keys[1] as string]);
      return test;
    }
    case 'anything-but': {
      const test = readAnythingBut(ctx, value, here, path);
      if (!test) return undefined;
      if (keys.length > 1)
        return problem('Too many elements in numeric expression', [...at, keys[1] as string]);
      return test;
    }
    default:
      return problem(`Unrecognized match type ${name}`, here);
  }
}

function cidrTest(range: IpRange): (value: Leaf) => boolean {
  return (v) => isString(v) && inRange(range, v);
}

/** Records a wildcard of a field for the complexity limit; the same wildcard twice counts once. */
function addWildcard(ctx: Context, path: string, tokens: WildcardToken[]): void {
  const list = ctx.wildcards.get(path) ?? [];
  const key = JSON.stringify(tokens);
  if (!list.some((t) => JSON.stringify(t) === key)) list.push(tokens);
  ctx.wildcards.set(path, list);
}

/** `{ prefix: "x" }` / `{ suffix: "x" }`, optionally `{ prefix: { "equals-ignore-case": "x" } }`. */
function readAffix(ctx: Context, kind: 'prefix' | 'suffix', value: Json, at: Path): Matcher {
  const problem = (message: string, where: Path = at) => {
    ctx.problems.push({ message, path: where });
    return undefined;
  };
  let text: string;
  let ignoreCase = false;
  if (isObject(value)) {
    const [op, ...rest] = Object.keys(value);
    const label = kind === 'prefix' ? 'Prefix' : 'Suffix';
    if (op === undefined) return problem(`${label} expression name not found`);
    if (op !== 'equals-ignore-case') return problem(`Unsupported ${kind} pattern: ${op}`, [...at, op]);
    const inner = value[op];
    if (!isString(inner)) return problem('equals-ignore-case match pattern must be a string', [...at, op]);
    if (rest.length > 0)
      return problem('Only one key allowed in match expression', [...at, rest[0] as string]);
    text = inner.toLowerCase();
    ignoreCase = true;
  } else if (isString(value)) {
    text = value;
  } else {
    return problem(`${kind} match pattern must be a string`);
  }
  const fold = (v: string) => (ignoreCase ? v.toLowerCase() : v);
  return kind === 'prefix'
    ? (v) => isString(v) && fold(v).startsWith(text)
    : (v) => isString(v) && fold(v).endsWith(text);
}

/** `numeric: ["=", n]`, `[">"|">="|"<"|"<=", n]` or `[">"|">=", low, "<"|"<=", high]`. */
function readNumeric(
  items: Json[],
  problem: (message: string) => undefined,
): ((value: Leaf) => boolean) | undefined {
  const [op, first, third, fourth, ...rest] = items;
  const number = (v: Json, label: string): number | undefined => {
    if (!isNumber(v)) return problem(`Value of ${label} must be numeric`);
    if (Math.abs(v) > NUMBER_LIMIT)
      return problem(`Value must be between -${NUMBER_LIMIT} and ${NUMBER_LIMIT}, inclusive`);
    return v;
  };
  const inLimits = (v: Leaf): v is number => isNumber(v) && Math.abs(v) <= NUMBER_LIMIT;
  if (!isString(op)) return problem(`Invalid member in numeric match: ${describe(op)}`);
  switch (op) {
    case '=': {
      const n = number(first, 'equals');
      if (n === undefined) return undefined;
      if (items.length > 2) return problem('Too many elements in numeric expression');
      return (v) => inLimits(v) && v === n;
    }
    case '<':
    case '<=': {
      const n = number(first, op);
      if (n === undefined) return undefined;
      if (items.length > 2) return problem('Too many elements in numeric expression');
      return op === '<' ? (v) => inLimits(v) && v < n : (v) => inLimits(v) && v <= n;
    }
    case '>':
    case '>=': {
      const low = number(first, op);
      if (low === undefined) return undefined;
      const above = op === '>' ? (v: number) => v > low : (v: number) => v >= low;
      if (items.length === 2) return (v) => inLimits(v) && above(v);
      if (!isString(third)) return problem(`Bad value in numeric range: ${describe(third)}`);
      if (third !== '<' && third !== '<=') return problem(`Bad numeric range operator: ${third}`);
      const high = number(fourth, third);
      if (high === undefined) return undefined;
      if (rest.length > 0) return problem('Too many terms in numeric range expression');
      // EventBridge (event-ruler's Range.between) refuses a range whose bottom is not below its top.
      if (low >= high) return problem('Bottom must be less than top');
      const below = third === '<' ? (v: number) => v < high : (v: number) => v <= high;
      return (v) => inLimits(v) && above(v) && below(v);
    }
    default:
      return problem(`Unrecognized numeric range operator: ${op}`);
  }
}

/** `anything-but`: a value, a list, or `{ prefix | suffix | equals-ignore-case | wildcard: value or list }`. */
function readAnythingBut(
  ctx: Context,
  value: Json,
  at: Path,
  path: string,
): ((value: Leaf) => boolean) | undefined {
  const problem = (message: string, where: Path = at) => {
    ctx.problems.push({ message, path: where });
    return undefined;
  };
  let kind: 'plain' | 'equals-ignore-case' | 'prefix' | 'suffix' | 'wildcard' = 'plain';
  let operand = value;
  let where = at;
  if (isObject(value)) {
    const [op, ...rest] = Object.keys(value);
    if (op === undefined) return problem('Anything-But expression name not found');
    if (op !== 'equals-ignore-case' && op !== 'prefix' && op !== 'suffix' && op !== 'wildcard')
      return problem(`Unsupported anything-but pattern: ${op}`, [...at, op]);
    kind = op;
    operand = value[op];
    where = [...at, op];
    if (rest.length > 0 && (Array.isArray(operand) || isString(operand) || isNumber(operand)))
      return problem('Too many elements in numeric expression', [...at, rest[0] as string]);
  }
  if (!Array.isArray(operand) && !isString(operand) && !isNumber(operand))
    return problem('Value of anything-but must be an array or single string/number value.', where);
  const list = Array.isArray(operand) ? operand : [operand];
  if (kind === 'plain') {
    const strings = new Set<string>();
    const numbers: number[] = [];
    for (const [i, item] of list.entries()) {
      const itemAt = Array.isArray(operand) ? [...where, i] : where;
      if (isString(item)) strings.add(item);
      else if (isNumber(item)) {
        if (Math.abs(item) > NUMBER_LIMIT)
          return problem(`Value must be between -${NUMBER_LIMIT} and ${NUMBER_LIMIT}, inclusive`, itemAt);
        numbers.push(item);
      } else return problem('Inside anything but list, start|null|boolean is not supported.', itemAt);
    }
    if (strings.size > 0 === numbers.length > 0)
      return problem(
        'Inside anything but list, either all values are number or string, mixed type is not supported',
        where,
      );
    return (v) => !(isString(v) ? strings.has(v) : isNumber(v) ? numbers.includes(v) : false);
  }
  const texts: string[] = [];
  for (const [i, item] of list.entries()) {
    const itemAt = Array.isArray(operand) ? [...where, i] : where;
    if (!isString(item)) {
      return problem(
        kind === 'equals-ignore-case'
          ? 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'
          : kind === 'wildcard'
            ? 'wildcard match pattern must be a string'
            : 'prefix/suffix match pattern must be a string',
        itemAt,
      );
    }
    if ((kind === 'prefix' || kind === 'suffix') && item === '')
      return problem('Null prefix/suffix not allowed', itemAt);
    texts.push(item);
  }
  switch (kind) {
    case 'equals-ignore-case': {
      const lower = new Set(texts.map((t) => t.toLowerCase()));
      return (v) => !(isString(v) && lower.has(v.toLowerCase()));
    }
    case 'prefix':
      return (v) => !(isString(v) && texts.some((t) => v.startsWith(t)));
    case 'suffix':
      return (v) => !(isString(v) && texts.some((t) => v.endsWith(t)));
    case 'wildcard': {
      const regexps: RegExp[] = [];
      for (const [i, text] of texts.entries()) {
        const parsed = parseWildcard(text);
        if ('error' in parsed) return problem(parsed.error, Array.isArray(operand) ? [...where, i] : where);
        addWildcard(ctx, path, parsed.tokens);
        regexps.push(wildcardRegExp(parsed.tokens));
      }
      return (v) => !(isString(v) && regexps.some((re) => re.test(v)));
    }
  }
}
