import type { Backend } from '../apply/backend';
import { EnvironmentError } from '../errors';
import type { Context, InterfaceResult } from '../commands/common';
import { Coalescer } from './coalescer';
import { PollEvents } from './events-poll';
import type { EventSink, EventSource } from './source';
import { Reconciler } from './reconcile';
import { REPAIR_WINDOW_MS } from './repair-limit';
import { emptyWork, type Work } from './work';

export interface WatcherOptions {
  /** How long to gather a burst of events into one pass. */
  readonly debounceMs: number;
  /** The source to use when the first one fails (`auto`); without one, a failed source ends the watch. */
  readonly fallback?: () => EventSource;
  /** Opens nf_tables events about guestnet's table; throws when they cannot be had (the watcher then polls the table). */
  readonly tableEvents: () => Promise<EventSource>;
}

// Without nf_tables events, how often a VM that keeps a table re-reads it:
// the promise is "restored within a second"; one read is a few netlink
// dumps (0.5 ms of CPU) or one `nft -j list table` (20 ms).
const TABLE_POLL_MS = 1000;

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
  /** Where changes to guestnet's table are heard: only while the VM keeps one. */
  private table: EventSource | undefined;
  private readonly tableSink: EventSink;
  /** Whether the log said the table is polled: once per watch. */
  private tablePolled = false;
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
      table: (lost) => {
        if (lost !== undefined) this.ctx.log.log('info', undefined, `${lost}; re-reading the table`, { event: 'overflow' });
        this.poke((w) => (w.table = true));
      },
      failed: (err) => void this.fallBack(err),
    };
    this.tableSink = { ...this.sink, failed: (err) => void this.tableFailed(err) };
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
    // After the last pass, which may have started it.
    const table = this.table;
    this.table = undefined;
    await table?.stop();
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
      const { results, deferred, keepsTable } = await this.reconciler.pass(work);
      this.lastResults = results;
      if (deferred.length > 0) this.later(deferred);
      await this.guardTable(keepsTable);
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

  /**
   * Listens for changes to guestnet's table once the VM keeps one, and
   * stops with the last provider link: a client-only VM never opens an
   * nf_tables socket (binding one would load nf_tables). A failed
   * convergence (undefined) changes nothing.
   */
  private async guardTable(keeps: boolean | undefined): Promise<void> {
    if (keeps === true && this.table === undefined && this.source !== undefined) {
      const table = await this.openTable();
      this.table = table;
      table.start(this.tableSink);
      this.ctx.log.log('debug', undefined, `watching the nftables table (${table.name})`);
      // The table was made right before anyone listened: one more look covers the moment in between.
      this.poke((w) => (w.table = true));
    } else if (keeps === false && this.table !== undefined) {
      const table = this.table;
      this.table = undefined;
      await table.stop();
    }
  }

  private async openTable(): Promise<EventSource> {
    try {
      return await this.opts.tableEvents();
    } catch (err) {
      return this.pollTable('info', `nf_tables events unavailable (${(err as Error).message})`);
    }
  }

  /** Polling instead of table events; the log says so once per watch. */
  private pollTable(level: 'info' | 'warn', why: string): EventSource {
    if (!this.tablePolled) {
      const msg = `${why}; re-reading the nftables table every ${TABLE_POLL_MS / 1000} s while the VM has provider links`;
      this.ctx.log.log(level, undefined, msg, { event: 'table-poll' });
    }
    this.tablePolled = true;
    return new PollEvents(TABLE_POLL_MS, 'table');
  }

  private async tableFailed(err: Error): Promise<void> {
    const failed = this.table;
    if (failed === undefined) return; // stopped meanwhile
    const next = this.pollTable('warn', `${failed.name} events failed (${err.message})`);
    this.table = next;
    await failed.stop().catch(() => undefined);
    if (this.table !== next) return; // stopped meanwhile
    next.start(this.tableSink);
    this.poke((w) => (w.table = true)); // whatever happened in between shows in the next read
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
