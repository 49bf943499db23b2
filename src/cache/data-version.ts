/**
 * Numbers that change on writes to events. Render caches key on `value`, so a cached feed is
 * served only while the data it was built from is unchanged; the list page's filter choices key
 * on `facets`, which changes only with writes that may alter them (they scan every upcoming event).
 */
export class DataVersion {
  private current = 1;
  private currentFacets = 1;
  private blind = false;

  /** While blind, every read is a new version: nothing cached is trusted. */
  get value(): number {
    if (this.blind) this.current += 1;
    return this.current;
  }

  get facets(): number {
    if (this.blind) this.currentFacets += 1;
    return this.currentFacets;
  }

  bump(change: { facets: boolean } = { facets: true }): void {
    this.current += 1;
    if (change.facets) this.currentFacets += 1;
  }

  /**
   * Whether this process can see every write (its own, and other instances' announcements). When
   * the announcements stop arriving (a lost connection), writes may go unseen.
   */
  setSeeingAllWrites(seeing: boolean): void {
    this.blind = !seeing;
    this.bump();
  }
}
