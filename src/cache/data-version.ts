/**
 * Numbers that change on writes to events. Render caches key on `value`, so a cached feed is
 * served only while the data it was built from is unchanged; the list page's filter choices key
 * on `facets`, which changes only with writes that may alter them (they scan every upcoming event).
 *
 * Writes reach it three ways: this process's own (`bump`), other instances' announcements on
 * PostgreSQL (events-changed.ts), and other processes writing the same SQLite file (the CLI's
 * replay, import or prune), seen through `followFileWrites`.
 */
export class DataVersion {
  private current = 1;
  private currentFacets = 1;
  private blind = false;
  private readFileVersion: (() => number) | null = null;
  private fileVersion = 0;
  private fileCheckedThisTurn = false;

  /** While blind, every read is a new version: nothing cached is trusted. */
  get value(): number {
    this.checkFile();
    if (this.blind) this.current += 1;
    return this.current;
  }

  get facets(): number {
    this.checkFile();
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

  /**
   * Checks `read` (SQLite's `PRAGMA data_version`: it changes when another connection commits to
   * the file, never for this connection's own writes) once per event-loop turn that reads the
   * version, so a write made beside the server is seen by the next request that arrives after
   * it. Requests handled in one turn share the check: the pragma takes and drops a shared lock
   * (two `fcntl` calls), which was a fifth of the CPU of a 304 under load. `npm run bench`
   * measures it against cached feeds.
   */
  followFileWrites(read: () => number): void {
    this.readFileVersion = read;
    this.fileVersion = read();
  }

  private checkFile(): void {
    if (this.readFileVersion === null || this.fileCheckedThisTurn) return;
    this.fileCheckedThisTurn = true;
    // Immediates run once the turn's I/O callbacks are done: the next turn checks again.
    setImmediate(() => {
      this.fileCheckedThisTurn = false;
    });
    const seen = this.readFileVersion();
    if (seen === this.fileVersion) return;
    this.fileVersion = seen;
    // What another process changed is unknown: the filter choices may have changed too.
    this.bump({ facets: true });
  }
}
