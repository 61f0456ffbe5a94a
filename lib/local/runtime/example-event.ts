/**
 * An example payload for an event's JSON Schema, for the ready-to-run publish command the dev server
 * prints. Values are plausible rather than random: required and optional properties are filled,
 * numbers are large enough to pass typical "from N up" filters, three-letter codes are `USD`.
 */
type Schema = Record<string, unknown>;

function stringFor(name: string, schema: Schema): string {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return String(schema.enum[0]);
  if (typeof schema.const === 'string') return schema.const;
  const format = schema.format;
  if (format === 'date-time') return '2026-01-01T12:00:00Z';
  if (format === 'date') return '2026-01-01';
  if (format === 'email') return 'someone@example.com';
  if (format === 'uri' || format === 'url') return 'https://example.com/';
  if (format === 'uuid') return '00000000-0000-4000-8000-000000000001';
  const pattern = typeof schema.pattern === 'string' ? schema.pattern : '';
  if (/^\^\[A-Z\]\{3\}\$$/.test(pattern)) return 'USD';
  if (/^\^\[A-Z\]\{2\}\$$/.test(pattern)) return 'US';
  if (/^\^\[0-9\]\{4\}\$$|^\^\\d\{4\}\$$/.test(pattern)) return '5812';
  return `${name}-1`;
}

/** An example value for `schema` (the property name guides strings). */
export function exampleFor(schema: unknown, name = 'value'): unknown {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as Schema;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  const variants = (s.oneOf ?? s.anyOf) as unknown[] | undefined;
  if (Array.isArray(variants) && variants.length > 0) return exampleFor(variants[0], name);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries((s.properties as Record<string, unknown> | undefined) ?? {}))
        out[key] = exampleFor(sub, key);
      return out;
    }
    case 'array':
      return [exampleFor(s.items, name)];
    case 'integer':
    case 'number': {
      const min = typeof s.minimum === 'number' ? s.minimum : 0;
      const max = typeof s.maximum === 'number' ? s.maximum : Number.POSITIVE_INFINITY;
      return Math.min(max, Math.max(min, 12500));
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string':
      return stringFor(name, s);
    default:
      return s.properties ? exampleFor({ ...s, type: 'object' }, name) : null;
  }
}
