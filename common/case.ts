/**
 * Case conversion of names: the one place that splits a name into words and joins them again, for the
 * YAML loader's suggestions, the naming convention (kebab-case resource names and event sources),
 * the generated types and the OpenAPI document.
 *
 * Pure functions only: Lambda code imports this module too.
 */

/** Splits a name into words at separators and case changes: `HTTPServer2go-now` -> `HTTP Server2go now`. */
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
}

/** `Card flow` -> `Card flow` with its first character upper-cased. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The words of `name` joined in PascalCase, as they are (empty for a name with no letters or digits). */
export function joinPascal(name: string): string {
  return words(name).map(capitalize).join('');
}

/**
 * A TypeScript type name: `card.transaction.authorized` -> `CardTransactionAuthorized`,
 * `merchant_name` -> `MerchantName`; `Unnamed` when nothing is left, `T` before a leading digit.
 */
export function pascalCase(text: string): string {
  const joined = joinPascal(text);
  if (!joined) return 'Unnamed';
  return /^[0-9]/.test(joined) ? `T${joined}` : joined;
}

/** `NotificationService` -> `notification-service`; `NotifyCardholder` -> `notify-cardholder`. */
export function kebabCase(name: string): string {
  return words(name)
    .map((w) => w.toLowerCase())
    .join('-');
}
