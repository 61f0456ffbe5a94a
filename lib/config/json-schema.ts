/**
 * Checking a payload JSON Schema the way the runtime will use it: compiled by Ajv (draft 2020-12 by
 * default, draft-07 when the schema says so), non-strict, with the standard formats.
 */

import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { JsonSchema } from './types.ts';

/** One problem with a schema; `path` is the JSON path (property names) of the offending part, relative to the schema root. */
export interface SchemaProblem {
  readonly message: string;
  readonly path: readonly string[];
}

const DRAFT_07 = /json-schema\.org\/draft-07\/schema/;

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

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
