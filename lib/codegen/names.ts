/** Type names derived from event names and schema property names. */

/** `card.transaction.authorized` -> `CardTransactionAuthorized`; `merchant_name` -> `MerchantName`. */
export function pascalCase(text: string): string {
  const words = text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  const joined = words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
  if (!joined) return 'Unnamed';
  return /^[0-9]/.test(joined) ? `T${joined}` : joined;
}

/** Hands out unique names: the first request for a base gets it, later ones get `Base2`, `Base3`, ... */
export class NameRegistry {
  private readonly taken = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const name of reserved) this.taken.add(name);
  }

  claim(base: string): string {
    let name = base;
    for (let n = 2; this.taken.has(name); n++) name = `${base}${n}`;
    this.taken.add(name);
    return name;
  }
}
