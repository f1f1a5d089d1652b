// Turns a stream of "something changed" pokes into passes that never
// overlap: pokes within `delayMs` of the first one share a pass, and pokes
// that arrive while a pass runs lead to exactly one more pass after it.

/**
 * Runs `fn` after `delayMs`; with 0, as soon as the event loop has handled
 * what it already holds (setTimeout clamps 0 to 1 ms, a third of a
 * hotplug's budget).
 */
function later(fn: () => void, delayMs: number): { readonly cancel: () => void } {
  if (delayMs === 0) {
    const immediate = setImmediate(fn);
    return { cancel: () => clearImmediate(immediate) };
  }
  const timer = setTimeout(fn, delayMs);
  return { cancel: () => clearTimeout(timer) };
}

/** One pass; `full` asks for every link rather than only the changed ones. */
export type Pass = (full: boolean) => Promise<void>;

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class Coalescer {
  /** The pending pass: a timer, or an immediate when it need not wait. */
  private timer: { readonly cancel: () => void } | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private full = false;
  private closed = false;
  private waiters: Waiter[] = [];

  constructor(
    private readonly pass: Pass,
    private readonly delayMs: number,
    /** Errors of passes nobody awaits (pokes from events). */
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Asks for a pass soon; cheap enough to call for every event. */
  poke(full = false): void {
    if (this.closed) return;
    this.dirty = true;
    this.full ||= full;
    // A full pass (SIGHUP, start) need not wait for a burst to settle.
    if (this.running === undefined) this.schedule(full ? 0 : this.delayMs);
  }

  /** Asks for a pass and resolves when one that started after this call is over. */
  request(full: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the watcher is stopping'));
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.poke(full);
    });
  }

  /** Drops pending pokes and waits for the pass in flight, if any. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
    for (const w of this.waiters.splice(0)) w.reject(new Error('the watcher is stopping'));
  }

  private schedule(delay: number): void {
    if (this.timer !== undefined) {
      if (delay > 0) return; // the pending timer already covers this poke
      this.timer.cancel();
    }
    this.timer = later(() => void this.fire(), delay);
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    const full = this.full;
    const waiters = this.waiters.splice(0);
    this.dirty = false;
    this.full = false;
    this.running = this.pass(full);
    try {
      await this.running;
      for (const w of waiters) w.resolve();
    } catch (err) {
      if (waiters.length === 0) this.onError(err);
      for (const w of waiters) w.reject(err);
    } finally {
      this.running = undefined;
    }
    if (this.dirty && !this.closed) this.schedule(this.full ? 0 : this.delayMs);
  }
}
