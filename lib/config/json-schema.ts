/**
 * Checking a payload JSON Schema before anything runs it: `$schema` must name a dialect the runtime
 * validates with (draft 2020-12, the default, or draft-07); Ajv checks the schema against that
 * dialect's meta-schema and compiles it (the loader's linter only: payloads are validated by one
 * engine, common/payload-schema.ts, in the publish API, the publisher and the workers);
 * and every `pattern` / `patternProperties` key must be linear-time safe (regex-safety.ts), since
 * it runs on every publish.
 */

import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { unsafePatternReason } from './regex-safety.ts';
import type { JsonSchema } from './types.ts';

/** One problem with a schema; `path` is the JSON path (property names) of the offending part, relative to the schema root. */
export interface SchemaProblem {
  readonly message: string;
  readonly path: readonly string[];
  /** Diagnostic code when it is not `invalid-schema`. */
  readonly code?: 'unsafe-pattern' | 'unknown-meta-schema';
}

const DRAFT_07 = /json-schema\.org\/draft-07\/schema/;
/** The `$schema` values the loader and the runtime's validator both honour. */
const KNOWN_DIALECTS = [
  'https://json-schema.org/draft/2020-12/schema',
  'http://json-schema.org/draft-07/schema#',
];

type AjvInstance = InstanceType<typeof Ajv> | InstanceType<typeof Ajv2020>;
const addFormats = addFormatsModule as unknown as (ajv: AjvInstance) => AjvInstance;

let draft2020: AjvInstance | undefined;
let draft07: AjvInstance | undefined;

/** The Ajv instance for a schema's dialect (created once). */
function ajvFor(schema: JsonSchema): AjvInstance {
  const options = { strict: false, allErrors: true, logger: false as const };
  if (typeof schema.$schema === 'string' && DRAFT_07.test(schema.$schema)) {
    draft07 ??= addFormats(new Ajv(options));
    return draft07;
  }
  draft2020 ??= addFormats(new Ajv2020(options));
  return draft2020;
}

/** The problems that keep `schema` from compiling; empty when it compiles. */
export function checkJsonSchema(schema: JsonSchema): SchemaProblem[] {
  const dialect = schema.$schema;
  const known = (d: string) => KNOWN_DIALECTS.some((k) => k.replace(/#$/, '') === d.replace(/#$/, ''));
  if (dialect !== undefined && (typeof dialect !== 'string' || !known(dialect)))
    return [
      {
        message: `"$schema" names ${JSON.stringify(dialect)}, a meta-schema the runtime does not know; use ${KNOWN_DIALECTS[0]} (the default) or ${KNOWN_DIALECTS[1]}`,
        path: ['$schema'],
        code: 'unknown-meta-schema',
      },
    ];
  const unsafe = unsafePatterns(schema);
  if (unsafe.length > 0) return unsafe;
  const ajv = ajvFor(schema);
  const { $id: _id, ...withoutId } = schema;
  const valid = ajv.validateSchema(withoutId);
  if (!valid && ajv.errors) {
    // With allErrors, one mistake can fail several alternatives of the meta-schema: keep the first per place.
    const seen = new Set<string>();
    const firstPerPlace = ajv.errors.filter((e) => !seen.has(e.instancePath) && seen.add(e.instancePath));
    return firstPerPlace.map((e) => {
      const path = e.instancePath.split('/').slice(1).map(unescapePointer);
      const params = e.params as Record<string, unknown>;
      const allowed = Array.isArray(params.allowedValues) ? ` (${params.allowedValues.join(', ')})` : '';
      const where = path.length > 0 ? `"${path.join('.')}" ` : '';
      return { message: `${where}${e.message ?? 'is invalid'}${allowed}`, path };
    });
  }
  try {
    ajv.compile(withoutId);
    return [];
  } catch (error) {
    return [{ message: error instanceof Error ? error.message : String(error), path: [] }];
  } finally {
    // The instance is shared: do not let compiled schemas of every load pile up in its cache.
    ajv.removeSchema(withoutId);
  }
}

/** `pattern` values and `patternProperties` keys that are not linear-time safe, found without recursion. */
function unsafePatterns(schema: JsonSchema): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const check = (pattern: string, path: string[]) => {
    const reason = unsafePatternReason(pattern);
    if (reason)
      problems.push({
        code: 'unsafe-pattern',
        message: `pattern ${JSON.stringify(pattern)} can take exponential time on a short input: ${reason}. It runs on every publish`,
        path,
      });
  };
  const stack: Array<[unknown, string[], boolean]> = [[schema, [], true]];
  while (stack.length > 0) {
    const [node, path, isSchema] = stack.pop() as [unknown, string[], boolean];
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        stack.push([item, [...path, String(i)], isSchema]);
      });
      continue;
    }
    for (const [key, value] of Object.entries(node)) {
      // Under `properties` (and similar), keys are property names, not keywords.
      const names = ['properties', '$defs', 'definitions', 'dependentSchemas'].includes(key);
      if (isSchema && key === 'pattern' && typeof value === 'string') check(value, [...path, key]);
      if (isSchema && key === 'patternProperties' && value && typeof value === 'object')
        for (const name of Object.keys(value)) check(name, [...path, key, name]);
      if (isSchema && (key === 'enum' || key === 'const' || key === 'examples' || key === 'default'))
        continue;
      if (names || (isSchema && key === 'patternProperties')) {
        for (const [name, sub] of Object.entries((value ?? {}) as object))
          stack.push([sub, [...path, key, name], true]);
        continue;
      }
      stack.push([value, [...path, key], isSchema || !names]);
    }
  }
  return problems;
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
