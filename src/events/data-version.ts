/**
 * A number that changes on every write to events. Render caches key on it, so a cached feed is
 * served only while the data it was built from is unchanged.
 */
export class DataVersion {
  private current = 1;
  private blind = false;

  /** While blind, every read is a new version: nothing cached is trusted. */
  get value(): number {
    if (this.blind) this.current += 1;
    return this.current;
  }

  bump(): void {
    this.current += 1;
  }

  /**
   * Whether this process can see every write (its own, and other instances' announcements). When
   * the announcements stop arriving (a lost connection), writes may go unseen.
   */
  setSeeingAllWrites(seeing: boolean): void {
    this.blind = !seeing;
    this.current += 1;
  }
}
