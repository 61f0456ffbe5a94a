/** Unique type names (the names themselves come from `pascalCase` of common/case.ts). */

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
