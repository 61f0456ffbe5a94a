/**
 * The shapes of names in the YAML, and suggestions that fix a malformed one.
 */
import { joinPascal, kebabCase, words } from '../../common/case.ts';

/** `NotificationService`, `NotifyCardholder`: starts upper-case, letters and digits only. */
export const PASCAL_CASE = /^[A-Z][A-Za-z0-9]*$/;
/** `cardflow`, `card-flow`, `prod2`. */
export const KEBAB_CASE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** `card.transaction.authorized`, `event_hoge_updated`: lower-case segments separated by dots. */
export const EVENT_NAME = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;
/** `acme.ledger.v1`. */
export const PACKAGE_NAME = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;

/** `notification-service` -> `NotificationService`. */
export function toPascalCase(name: string): string {
  const pascal = joinPascal(name);
  return /^[0-9]/.test(pascal) ? `X${pascal}` : pascal;
}

/** `Card Flow` -> `card-flow`. */
export function toKebabCase(name: string): string {
  const kebab = kebabCase(name);
  return /^[0-9]/.test(kebab) ? `x-${kebab}` : kebab;
}

/** `Card-Transaction Authorized` -> `card.transaction.authorized` (keeps existing dots as separators). */
export function toEventName(name: string): string {
  return name
    .split('.')
    .map((segment) =>
      words(segment)
        .map((w) => w.toLowerCase())
        .join('_'),
    )
    .filter(Boolean)
    .join('.');
}
