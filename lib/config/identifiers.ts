/**
 * The shapes of names in the YAML, and suggestions that fix a malformed one.
 */

/** `NotificationService`, `NotifyCardholder`: starts upper-case, letters and digits only. */
export const PASCAL_CASE = /^[A-Z][A-Za-z0-9]*$/;
/** `cardflow`, `card-flow`, `prod2`. */
export const KEBAB_CASE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** `card.transaction.authorized`, `event_hoge_updated`: lower-case segments separated by dots. */
export const EVENT_NAME = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;
/** `acme.ledger.v1`. */
export const PACKAGE_NAME = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;

/** Splits a name into words at separators and case changes. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

/** `notification-service` -> `NotificationService`. */
export function toPascalCase(name: string): string {
  const pascal = words(name)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  return /^[0-9]/.test(pascal) ? `X${pascal}` : pascal;
}

/** `Card Flow` -> `card-flow`. */
export function toKebabCase(name: string): string {
  const kebab = words(name)
    .map((w) => w.toLowerCase())
    .join('-');
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
