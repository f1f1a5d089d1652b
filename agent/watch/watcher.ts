import type { Backend } from '../apply/backend';
import type { Context } from '../commands/common';
import { Coalescer } from './coalescer';
import type { EventSink, EventSource } from './events';
import { Reconciler } from './reconcile';

export interface WatcherOptions {
  /** How long to gather a burst of events into one pass. */
  readonly debounceMs: number;
  /** The source to use when the first one fails. */
  readonly fallback: () => EventSource;
}

/**
 * The long-running loop: events -> coalesced, serialized passes. Nothing a
 * single link does can stop it; only start() throws (nothing could be
 * configured at all), and only stop() ends it.
 */
export class Watcher {
  private readonly reconciler: Reconciler;
  private readonly coalescer: Coalescer;
  private readonly sink: EventSink;
  private source: EventSource | undefined;
  private started = false;

  constructor(
    backend: Backend,
    private readonly ctx: Context,
    private readonly opts: WatcherOptions,
  ) {
    this.reconciler = new Reconciler(backend, ctx);
    this.coalescer = new Coalescer((full) => this.pass(full), opts.debounceMs, (err) => this.logError(err));
    this.sink = {
      changed: (lost) => {
        if (lost) ctx.log.log('debug', undefined, `${lost}; re-reading every link`, { event: 'overflow' });
        this.coalescer.poke();
      },
      failed: (err) => void this.fallBack(err),
    };
  }

  /** Subscribes first, then applies everything, so no link slips between the two. */
  async start(source: EventSource): Promise<void> {
    this.source = source;
    source.start(this.sink);
    this.ctx.log.log('debug', undefined, `watching link events (${source.name})`);
    await this.coalescer.request(true);
    this.started = true;
  }

  /** SIGHUP: re-apply every inter-guest link. */
  reapply(): void {
    this.coalescer.poke(true);
  }

  /** Stops listening, then waits for the pass in flight; the configuration stays. */
  async stop(): Promise<void> {
    const source = this.source;
    this.source = undefined;
    await source?.stop();
    await this.coalescer.close();
  }

  get eventSource(): string | undefined {
    return this.source?.name;
  }

  private async pass(full: boolean): Promise<void> {
    try {
      await this.reconciler.pass(full);
    } catch (err) {
      // Before start() returns, the caller decides; afterwards, log and go on.
      if (!this.started) throw err;
      this.logError(err);
    }
  }

  private logError(err: unknown): void {
    this.ctx.log.log('error', undefined, err instanceof Error ? err.message : String(err));
  }

  private async fallBack(err: Error): Promise<void> {
    const failed = this.source;
    if (failed === undefined) return; // stopping
    const next = this.opts.fallback();
    this.ctx.log.log('warn', undefined, `${failed.name} events failed (${err.message}); falling back to ${next.name}`);
    this.source = next;
    await failed.stop().catch(() => undefined);
    if (this.source !== next) return; // stop() came meanwhile
    next.start(this.sink);
    this.coalescer.poke(); // whatever happened in between shows in the next listing
  }
}
