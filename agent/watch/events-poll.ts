import type { EventSink, EventSource } from './events';

/**
 * Wakes the watcher every `intervalMs` to re-read /sys/class/net. Works
 * anywhere (busybox only, no FFI); latency is the interval, and each wake
 * costs one sysfs listing (about 0.1 ms for a handful of links).
 */
export class PollEvents implements EventSource {
  readonly name: string;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly intervalMs: number) {
    this.name = `poll (every ${intervalMs} ms)`;
  }

  start(sink: EventSink): void {
    this.timer = setInterval(() => sink.changed(), this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
