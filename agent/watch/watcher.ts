import type { Backend } from '../apply/backend';
import { EnvironmentError } from '../errors';
import type { Context, InterfaceResult } from '../commands/common';
import { Coalescer } from './coalescer';
import type { EventSink, EventSource } from './events';
import { Reconciler } from './reconcile';
import { REPAIR_WINDOW_MS } from './repair-limit';
import { emptyWork, type Work } from './work';

export interface WatcherOptions {
  /** How long to gather a burst of events into one pass. */
  readonly debounceMs: number;
  /** The source to use when the first one fails (`auto`); without one, a failed source ends the watch. */
  readonly fallback?: () => EventSource;
}

/**
 * The long-running loop: events -> coalesced, serialized passes. Nothing a
 * single link does can stop it; only start() throws (nothing could be
 * configured at all), a failed event source the user chose ends it
 * (`failure`), and stop() ends it.
 */
export class Watcher {
  private readonly reconciler: Reconciler;
  private readonly coalescer: Coalescer;
  private readonly sink: EventSink;
  private source: EventSource | undefined;
  private started = false;
  /** What the events since the last pass ask of the next one. */
  private work: Work = emptyWork();
  private lastResults: readonly InterfaceResult[] = [];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private fail: (err: Error) => void = () => undefined;
  /** Rejects when the event source failed and there is no fallback. */
  readonly failure: Promise<never>;

  constructor(
    backend: Backend,
    private readonly ctx: Context,
    private readonly opts: WatcherOptions,
  ) {
    this.reconciler = new Reconciler(backend, ctx);
    this.coalescer = new Coalescer((full) => this.pass(full), opts.debounceMs, (err) => this.logError(err));
    this.failure = new Promise<never>((_, reject) => (this.fail = reject));
    this.failure.catch(() => undefined); // observed by watch(); not an unhandled rejection meanwhile
    this.sink = {
      changed: () => this.poke((w) => (w.relist = true)),
      lost: (why) => {
        this.work.lost = why;
        this.coalescer.poke(true);
      },
      link: (link, removed) => this.poke((w) => w.links.set(link.ifindex, removed ? undefined : link)),
      state: (ifindex) => this.poke((w) => w.touched.add(ifindex)),
      failed: (err) => void this.fallBack(err),
    };
  }

  /** Subscribes first, then applies everything, so no link slips between the two; the first pass's results. */
  async start(source: EventSource): Promise<readonly InterfaceResult[]> {
    this.source = source;
    source.start(this.sink);
    this.ctx.log.log('debug', undefined, `watching link events (${source.name})`);
    await this.coalescer.request(true);
    this.started = true;
    return this.lastResults;
  }

  /** SIGHUP: re-apply every inter-guest link. */
  reapply(): void {
    this.coalescer.poke(true);
  }

  /** A full pass now, for callers that wait on its results (retries before readiness). */
  async resync(): Promise<readonly InterfaceResult[]> {
    await this.coalescer.request(true);
    return this.lastResults;
  }

  /** Stops listening, then waits for the pass in flight; the configuration stays. */
  async stop(): Promise<void> {
    const source = this.source;
    this.source = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await source?.stop();
    await this.coalescer.close();
  }

  get eventSource(): string | undefined {
    return this.source?.name;
  }

  private poke(note: (w: Work) => void): void {
    note(this.work);
    this.coalescer.poke();
  }

  private async pass(full: boolean): Promise<void> {
    const work = this.work;
    this.work = emptyWork();
    work.full ||= full;
    if (work.lost) this.ctx.log.log('info', undefined, `${work.lost}; re-reading every link`, { event: 'overflow' });
    try {
      const { results, deferred } = await this.reconciler.pass(work);
      this.lastResults = results;
      if (deferred.length > 0) this.later(deferred);
    } catch (err) {
      // Before start() returns, the caller decides; afterwards, log and go on.
      if (!this.started) throw err;
      this.logError(err);
    }
  }

  /** Re-checks links held back by the repair limit once their window is over. */
  private later(ifindexes: readonly number[]): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.poke((w) => ifindexes.forEach((i) => w.touched.add(i)));
    }, REPAIR_WINDOW_MS);
    this.timers.add(timer);
  }

  private logError(err: unknown): void {
    this.ctx.log.fatal(err);
  }

  private async fallBack(err: Error): Promise<void> {
    const failed = this.source;
    if (failed === undefined) return; // stopping
    if (this.opts.fallback === undefined) {
      this.fail(new EnvironmentError(`${failed.name} events failed: ${err.message}`));
      return;
    }
    const next = this.opts.fallback();
    this.ctx.log.log('warn', undefined, `${failed.name} events failed (${err.message}); falling back to ${next.name}`);
    this.source = next;
    await failed.stop().catch(() => undefined);
    if (this.source !== next) return; // stop() came meanwhile
    next.start(this.sink);
    this.sink.changed(); // whatever happened in between shows in the next listing
  }
}
