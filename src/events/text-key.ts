/**
 * Folding for matching: case-, accent- and ligature-insensitive, so `munchen` finds
 * "München" and `strasse` finds "Straße".
 */
export function foldKey(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Resolves city spellings through `CITY_ALIASES`: every spelling maps to one canonical folded
 * key, and `spellingsOf` lists every folded spelling that shares it.
 */
export class CityAliases {
  private readonly canonicalBySpelling = new Map<string, string>();

  constructor(aliases: Record<string, string>) {
    for (const [spelling, city] of Object.entries(aliases)) {
      this.canonicalBySpelling.set(foldKey(spelling), foldKey(city));
    }
  }

  /** The canonical folded key for a city name. */
  canonical(city: string): string {
    const key = foldKey(city);
    return this.canonicalBySpelling.get(key) ?? key;
  }

  /** Every folded spelling that names the same city as `city`. */
  spellingsOf(city: string): string[] {
    const canonical = this.canonical(city);
    const spellings = new Set([canonical, foldKey(city)]);
    for (const [spelling, target] of this.canonicalBySpelling) {
      if (target === canonical) spellings.add(spelling);
    }
    return [...spellings];
  }
}
