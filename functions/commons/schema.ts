/**
 * Validates event payloads against the JSON Schemas of event-router.yaml.
 *
 * Uses an interpreting validator (no code generation at run time, about 23 KB minified) so the
 * worker bundle stays small; each event's validator is built once per execution environment.
 */

import { type PayloadSchema, PayloadValidator as SchemaValidator } from '../../common/payload-schema.ts';
import { PoisonMessageError } from './errors.ts';

/** Problems listed in one error message. */
const MAX_LISTED = 5;

/** `/merchant/name` -> `payload.merchant.name`. */
function pathOf(pointer: string): string {
  const parts = pointer.split('/').slice(1);
  return ['payload', ...parts.map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))].join('.');
}

/** Payload validation for one worker. */
export class PayloadValidator {
  private readonly validator: SchemaValidator | undefined;

  /** `schemas` undefined turns validation off (tests that do not care). */
  constructor(schemas: Readonly<Record<string, PayloadSchema>> | undefined) {
    this.validator = schemas === undefined ? undefined : new SchemaValidator(schemas);
  }

  /**
   * Throws a {@link PoisonMessageError} (`SchemaViolation`) listing what is wrong with `payload`.
   * Does nothing when there is no schema for the event.
   */
  validate(eventName: string, payload: unknown): void {
    if (!this.validator?.has(eventName)) return;
    const problems = this.validator
      .validate(eventName, payload)
      .map((violation) => `${pathOf(violation.pointer)}: ${violation.message} (${violation.keyword})`);
    if (problems.length === 0) return;
    const listed = problems.slice(0, MAX_LISTED).join('; ');
    const more = problems.length > MAX_LISTED ? `; and ${problems.length - MAX_LISTED} more` : '';
    throw new PoisonMessageError(
      'SchemaViolation',
      `The payload of "${eventName}" does not match its schema in event-router.yaml: ${listed}${more}.`,
    );
  }
}
