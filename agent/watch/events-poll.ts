import type { EventSink, EventSource } from './source';

/**
 * Wakes the watcher every `intervalMs`: to re-read /sys/class/net
 * (`links`: works anywhere, busybox only, no FFI; latency is the interval,
 * and each wake costs one sysfs listing, about 0.1 ms for a handful of
 * links), or to re-read guestnet's nftables table where nf_tables events
 * cannot be had (`table`).
 */
export class PollEvents implements EventSource {
  readonly name: string;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly what: 'links' | 'table' = 'links',
  ) {
    this.name = `poll (every ${intervalMs} ms)`;
  }

  start(sink: EventSink): void {
    this.timer = setInterval(() => (this.what === 'links' ? sink.changed() : sink.table()), this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
