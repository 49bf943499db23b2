/**
 * A number that changes on every write to events. Render caches key on it, so a cached feed is
 * served only while the data it was built from is unchanged.
 */
export class DataVersion {
  private current = 1;

  get value(): number {
    return this.current;
  }

  bump(): void {
    this.current += 1;
  }
}
