/**
 * JSON Schema (the subset an event payload uses) -> TypeScript declarations.
 *
 * Mapping, chosen so a wrong payload fails to compile while every valid payload compiles:
 * - `type: object` with `properties` -> an exported interface; `required` decides `?`; nested objects
 *   become their own interfaces named after the path (`CardTransactionAuthorizedMerchant`).
 * - `additionalProperties`: absent or `false` -> no index signature (extra keys are compile errors; the
 *   schema still decides at run time); `true` or a schema -> `[key: string]: unknown` next to declared
 *   properties, `Record<string, T>` when there are none.
 * - `enum` / `const` -> literal unions; `type: [a, b]` and `anyOf` / `oneOf` -> unions; `allOf` -> intersection.
 * - `type: array` -> `T[]`; `prefixItems` -> a tuple; `integer` -> `number`.
 * - local `$ref` (`#/$defs/X`, `#/definitions/X`) -> a named type per definition.
 * - `description` -> JSDoc; `default` -> `@default`; `deprecated: true` -> `@deprecated`.
 * Anything else falls back to `unknown`, which accepts every payload the schema accepts.
 */

import { pascalCase } from '../../common/case.ts';
import type { JsonSchema } from '../config/types.ts';
import { jsDoc, LINE_WIDTH, propertyKey, stringLiteral } from './literals.ts';
import type { NameRegistry } from './names.ts';

/** A type expression; `members` is set when it is a top-level union (so it can be laid out one per line). */
interface TypeExpr {
  readonly text: string;
  readonly members?: readonly string[];
}

type Schema = JsonSchema | boolean;

const simple = (text: string): TypeExpr => ({ text });

function union(members: readonly TypeExpr[]): TypeExpr {
  const flat: string[] = [];
  for (const member of members) for (const text of member.members ?? [member.text]) flat.push(text);
  const unique = [...new Set(flat)];
  if (unique.includes('unknown')) return simple('unknown');
  if (unique.length === 0) return simple('never');
  if (unique.length === 1) return simple(unique[0] ?? 'never');
  return { text: unique.join(' | '), members: unique };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function literalType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return 'unknown';
}

function docOf(schema: Record<string, unknown>): string | undefined {
  const parts: string[] = [];
  if (typeof schema.description === 'string') parts.push(schema.description);
  if (schema.default !== undefined) parts.push(`@default ${JSON.stringify(schema.default)}`);
  if (schema.deprecated === true) parts.push('@deprecated');
  return parts.length > 0 ? parts.join('\n') : undefined;
}

/** Collects the declarations of one generated file. */
export class TypeEmitter {
  private readonly declarations: string[] = [];
  private readonly refs = new Map<string, string>();

  constructor(private readonly registry: NameRegistry) {}

  /** Every declaration emitted so far, in emission order, each ending without a newline. */
  get output(): readonly string[] {
    return this.declarations;
  }

  /**
   * Declares the payload type of one event and returns its name. An object schema becomes an interface,
   * anything else a type alias.
   */
  emitRoot(baseName: string, schema: JsonSchema, doc: string | undefined): string {
    const name = this.registry.claim(baseName);
    this.emitNamed(name, schema, doc, { root: schema, name });
    return name;
  }

  private emitNamed(name: string, schema: Schema, doc: string | undefined, root: Root): void {
    if (isObject(schema) && isObjectSchema(schema) && isObject(schema.properties)) {
      this.emitInterface(name, schema, doc, root);
      return;
    }
    const expr = this.typeOf(schema, name, root);
    this.emitAlias(name, expr, doc);
  }

  private emitAlias(name: string, expr: TypeExpr, doc: string | undefined): void {
    const head = `export type ${name} =`;
    const flat = `${head} ${expr.text};`;
    const body =
      flat.length <= LINE_WIDTH || !expr.members
        ? flat
        : `${head}\n${expr.members.map((member, i) => `  | ${member}${i === (expr.members?.length ?? 0) - 1 ? ';' : ''}`).join('\n')}`;
    this.declarations.push(`${jsDoc(doc, '')}${body}`);
  }

  private emitInterface(name: string, schema: Record<string, unknown>, doc: string | undefined, root: Root) {
    // Reserve the slot first so the interface precedes the types it refers to.
    const slot = this.declarations.push('') - 1;
    const properties = isObject(schema.properties) ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
    const lines: string[] = [];
    for (const [key, propertySchema] of Object.entries(properties)) {
      const optional = required.has(key) ? '' : '?';
      const head = `  ${propertyKey(key)}${optional}: `;
      const hint = `${name}${pascalCase(key)}`;
      const expr = this.fit(
        this.typeOf(propertySchema as Schema, hint, root),
        hint,
        LINE_WIDTH - head.length - 1,
      );
      const propertyDoc = isObject(propertySchema) ? docOf(propertySchema) : undefined;
      lines.push(`${jsDoc(propertyDoc, '  ')}${head}${expr.text};`);
    }
    const extra = schema.additionalProperties ?? (isObject(schema.patternProperties) ? true : undefined);
    if (extra !== undefined && extra !== false) lines.push('  [key: string]: unknown;');
    const body = lines.length > 0 ? `{\n${lines.join('\n')}\n}` : '{}';
    this.declarations[slot] = `${jsDoc(doc, '')}export interface ${name} ${body}`;
  }

  /** Keeps `expr` inline when it fits `width` columns, else declares it as a named alias and refers to it. */
  private fit(expr: TypeExpr, hint: string, width: number): TypeExpr {
    if (expr.text.length <= width) return expr;
    if (!expr.members && !expr.text.includes(' | ') && !expr.text.includes(' & ')) return expr;
    const name = this.registry.claim(hint);
    this.emitAlias(name, expr, undefined);
    return simple(name);
  }

  private typeOf(schema: Schema | undefined, hint: string, root: Root): TypeExpr {
    if (schema === undefined || schema === true) return simple('unknown');
    if (schema === false) return simple('never');
    if (!isObject(schema)) return simple('unknown');

    if (typeof schema.$ref === 'string') return simple(this.refType(schema.$ref, root) ?? 'unknown');
    if ('const' in schema) return simple(literalType(schema.const));
    if (Array.isArray(schema.enum)) return union(schema.enum.map((value) => simple(literalType(value))));

    const variants = Array.isArray(schema.oneOf)
      ? schema.oneOf
      : Array.isArray(schema.anyOf)
        ? schema.anyOf
        : undefined;
    const base = this.baseType(schema, hint, root);
    if (variants) {
      const options = union(
        variants.map((variant, i) => {
          const expr = this.typeOf(variant as Schema, `${hint}Option${i + 1}`, root);
          return expr.members ? simple(`(${expr.text})`) : expr;
        }),
      );
      return base ? this.intersect([base, options], hint) : options;
    }
    if (Array.isArray(schema.allOf)) {
      const parts = schema.allOf.map((part, i) => this.typeOf(part as Schema, `${hint}Part${i + 1}`, root));
      return this.intersect(base ? [base, ...parts] : parts, hint);
    }
    return base ?? simple('unknown');
  }

  private intersect(parts: readonly TypeExpr[], hint: string): TypeExpr {
    const useful = parts.filter((part) => part.text !== 'unknown');
    if (useful.length === 0) return simple('unknown');
    if (useful.length === 1) return useful[0] ?? simple('unknown');
    const text = useful.map((part) => (part.members ? `(${part.text})` : part.text)).join(' & ');
    if (text.length <= 80) return simple(text);
    const name = this.registry.claim(hint);
    this.emitAlias(name, simple(text), undefined);
    return simple(name);
  }

  /** The type given by `type` (and the keywords that imply one), or undefined when nothing constrains it. */
  private baseType(schema: Record<string, unknown>, hint: string, root: Root): TypeExpr | undefined {
    const types = Array.isArray(schema.type)
      ? schema.type.map(String)
      : typeof schema.type === 'string'
        ? [schema.type]
        : [];
    if (types.length === 0) {
      if (isObject(schema.properties) || schema.additionalProperties !== undefined) types.push('object');
      else if (schema.items !== undefined || schema.prefixItems !== undefined) types.push('array');
      else return undefined;
    }
    return union(types.map((type) => this.singleType(type, schema, hint, root)));
  }

  private singleType(type: string, schema: Record<string, unknown>, hint: string, root: Root): TypeExpr {
    switch (type) {
      case 'string':
        return simple('string');
      case 'number':
      case 'integer':
        return simple('number');
      case 'boolean':
        return simple('boolean');
      case 'null':
        return simple('null');
      case 'array':
        return this.arrayType(schema, hint, root);
      case 'object':
        return this.objectType(schema, hint, root);
      default:
        return simple('unknown');
    }
  }

  private arrayType(schema: Record<string, unknown>, hint: string, root: Root): TypeExpr {
    const itemHint = `${hint}Item`;
    if (Array.isArray(schema.prefixItems)) {
      const items = schema.prefixItems.map(
        (item, i) => this.typeOf(item as Schema, `${itemHint}${i + 1}`, root).text,
      );
      if (schema.items !== false)
        items.push(
          `...${this.wrapForArray(this.typeOf(schema.items as Schema, itemHint, root), itemHint)}[]`,
        );
      return simple(`[${items.join(', ')}]`);
    }
    const item = this.typeOf(schema.items as Schema | undefined, itemHint, root);
    return simple(`${this.wrapForArray(item, itemHint)}[]`);
  }

  /** Array element types: unions in parentheses when short, named otherwise. */
  private wrapForArray(item: TypeExpr, hint: string): string {
    if (!item.members && !item.text.includes(' & ')) return item.text;
    if (item.text.length <= 60) return `(${item.text})`;
    const name = this.registry.claim(hint);
    this.emitAlias(name, item, undefined);
    return name;
  }

  private objectType(schema: Record<string, unknown>, hint: string, root: Root): TypeExpr {
    if (isObject(schema.properties) && Object.keys(schema.properties).length > 0) {
      const name = this.registry.claim(hint);
      this.emitInterface(name, schema, typeof schema.title === 'string' ? schema.title : undefined, root);
      return simple(name);
    }
    const extra = schema.additionalProperties;
    if (extra === false) return simple('Record<string, never>');
    if (extra === undefined || extra === true) return simple('Record<string, unknown>');
    const value = this.typeOf(extra as Schema, `${hint}Value`, root);
    return simple(`Record<string, ${value.text}>`);
  }

  private refType(ref: string, root: Root): string | undefined {
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    if (!match) return undefined;
    const key = `${root.name}\u0000${ref}`;
    const known = this.refs.get(key);
    if (known) return known;
    const [, section = '', defName = ''] = match;
    const defs = root.root[section];
    const target = isObject(defs)
      ? defs[decodeURIComponent(defName).replace(/~1/g, '/').replace(/~0/g, '~')]
      : undefined;
    if (target === undefined) return undefined;
    const name = this.registry.claim(`${root.name}${pascalCase(defName)}`);
    this.refs.set(key, name);
    this.emitNamed(name, target as Schema, isObject(target) ? docOf(target) : undefined, root);
    return name;
  }
}

interface Root {
  readonly root: JsonSchema;
  readonly name: string;
}

/** A plain object schema (no combinators or references) that can be declared as an interface. */
function isObjectSchema(schema: Record<string, unknown>): boolean {
  for (const keyword of ['$ref', 'const', 'enum', 'oneOf', 'anyOf', 'allOf'])
    if (keyword in schema) return false;
  return schema.type === 'object' || (schema.type === undefined && isObject(schema.properties));
}
