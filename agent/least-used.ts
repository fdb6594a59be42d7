// Spreads containers over a fixed set of places (CPUs, networks): each new one goes where the
// fewest are now. Pure; the agent counts what it takes and gives back what it closes.

export class LeastUsed<T> {
  /** Containers placed per place, in the order the places were given (the tie-break). */
  private readonly placed = new Map<T, number>();

  /** `places` must not be empty; a place listed twice counts once, at its first position. */
  constructor(places: readonly T[], what = 'place') {
    if (places.length === 0) throw new RangeError(`LeastUsed needs at least one ${what}`);
    for (const p of places) if (!this.placed.has(p)) this.placed.set(p, 0);
  }

  get places(): T[] {
    return [...this.placed.keys()];
  }

  /**
   * The place with the fewest containers (ties: the earliest in the list), now counted.
   * `elsewhere`: containers others placed (one entry each), counted in the choice only.
   */
  take(elsewhere: readonly T[] = []): T {
    const others = new Map<T, number>();
    for (const p of elsewhere) others.set(p, (others.get(p) ?? 0) + 1);
    let best: T | undefined;
    let fewest = Infinity;
    for (const [p, n] of this.placed) {
      const all = n + (others.get(p) ?? 0);
      if (all < fewest) {
        fewest = all;
        best = p;
      }
    }
    // The constructor guarantees at least one place.
    const p = best as T;
    this.placed.set(p, this.placed.get(p)! + 1);
    return p;
  }

  /** A container placed at `p` is gone. A place not in the list, or with none placed, is left as is. */
  give(p: T): void {
    const n = this.placed.get(p);
    if (n !== undefined && n > 0) this.placed.set(p, n - 1);
  }

  /** How many containers are placed at each place (tests, diagnostics). */
  counts(): Map<T, number> {
    return new Map(this.placed);
  }
}
