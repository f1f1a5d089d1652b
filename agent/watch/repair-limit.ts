// How often the watcher may re-check one link because its flags, addresses
// or routes changed. Another program that keeps undoing guestnet's state
// would otherwise make the two fight in a tight loop.

export const REPAIR_WINDOW_MS = 10_000;
const REPAIRS_PER_WINDOW = 8;

export class RepairLimit {
  /** ifindex -> start of its window and passes in it. */
  private readonly windows = new Map<number, { start: number; count: number }>();
  /** Links already logged as limited, so the log says it once. */
  private readonly noted = new Set<number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts one re-check of `ifindex`; false when it is over its budget for this window. */
  allow(ifindex: number): boolean {
    const now = this.now();
    const w = this.windows.get(ifindex);
    if (w === undefined || now - w.start >= REPAIR_WINDOW_MS) {
      this.windows.set(ifindex, { start: now, count: 1 });
      return true;
    }
    w.count++;
    return w.count <= REPAIRS_PER_WINDOW;
  }

  /** True the first time a link is limited: the caller logs then, and not again. */
  firstLimit(ifindex: number): boolean {
    if (this.noted.has(ifindex)) return false;
    this.noted.add(ifindex);
    return true;
  }

  /** Forgets a removed link. */
  forget(ifindex: number): void {
    this.windows.delete(ifindex);
    this.noted.delete(ifindex);
  }
}
