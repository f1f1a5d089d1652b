import { EnvironmentError } from '../errors';
import type { EventSink, EventSource } from './events';
import type { Libc } from './libc-bun';

/** What the watcher uses of a stream reader: it only needs to know that data came. */
interface Reader {
  read(): Promise<{ readonly done: boolean }>;
  cancel(): Promise<void>;
}

/**
 * rtnetlink link notifications (RTMGRP_LINK) on a socket opened through
 * bun:ffi. Bun's file stream waits on the non-blocking fd in its event loop,
 * so an idle watcher makes no syscalls. The bytes are not decoded: any
 * datagram means "re-read sysfs", and a full receive buffer (ENOBUFS) means
 * the same, since the re-read finds whatever the lost messages said.
 */
export class NetlinkEvents implements EventSource {
  readonly name = 'netlink';
  private fd = -1;
  private reader: Reader | undefined;

  private constructor(private readonly libc: Libc) {}

  static async open(): Promise<NetlinkEvents> {
    if (typeof Bun === 'undefined') throw new EnvironmentError('netlink events need the bun runtime');
    try {
      const { Libc } = await import('./libc-bun');
      const events = new NetlinkEvents(new Libc());
      events.fd = events.libc.openLinkEvents(); // fail here, at open, rather than in start()
      return events;
    } catch (err) {
      throw new EnvironmentError(`cannot open a netlink socket: ${(err as Error).message}`);
    }
  }

  start(sink: EventSink): void {
    const reader = Bun.file(this.fd).stream().getReader();
    this.reader = reader;
    void this.pump(reader, sink);
  }

  private async pump(reader: Reader, sink: EventSink): Promise<void> {
    try {
      while (!(await reader.read()).done) sink.changed();
      if (this.reader === reader) sink.failed(new Error('netlink event stream ended'));
    } catch (err) {
      if (this.reader !== reader) return; // stopped meanwhile
      if ((err as NodeJS.ErrnoException).code !== 'ENOBUFS') {
        sink.failed(err as Error);
        return;
      }
      sink.changed('the netlink receive queue overflowed (ENOBUFS)');
      this.start(sink); // the socket is fine; only its queue overflowed
    }
  }

  async stop(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    await reader?.cancel().catch(() => undefined);
    // Bun leaves the fd open on cancel; it is ours to close, once.
    if (this.fd >= 0) this.libc.close(this.fd);
    this.fd = -1;
  }
}
