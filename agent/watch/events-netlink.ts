import { EnvironmentError } from '../errors';
import { decodeMessages } from '../netlink/message';
import { decodeNotification } from '../netlink/rtnl-read';
import type { EventSink, EventSource } from './events';
import type { WatchSockets } from './sockets-bun';

/** What the watcher uses of a stream reader. */
interface Reader {
  read(): Promise<{ readonly done: boolean; readonly value?: Uint8Array }>;
  cancel(): Promise<void>;
}

/**
 * rtnetlink notifications on a socket opened through bun:ffi: links (each
 * message carries the whole link, so the watcher plans that link alone),
 * IPv4 addresses and routes (which name their link). Bun's file stream
 * waits on the non-blocking fd in its event loop, so an idle watcher makes
 * no syscalls. A full receive queue (ENOBUFS) lost messages: the watcher
 * then re-reads everything, from a new socket.
 */
export class NetlinkEvents implements EventSource {
  readonly name = 'netlink';
  private fd = -1;
  private reader: Reader | undefined;

  private constructor(private readonly sockets: WatchSockets) {}

  static async open(): Promise<NetlinkEvents> {
    if (typeof Bun === 'undefined') throw new EnvironmentError('netlink events need the bun runtime');
    try {
      const { WatchSockets } = await import('./sockets-bun');
      const events = new NetlinkEvents(new WatchSockets());
      events.fd = events.sockets.openEvents(); // fail here, at open, rather than in start()
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
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        if (r.value) dispatch(r.value, sink);
      }
      if (this.reader === reader) sink.failed(new Error('netlink event stream ended'));
    } catch (err) {
      if (this.reader !== reader) return; // stopped meanwhile
      if ((err as NodeJS.ErrnoException).code !== 'ENOBUFS') {
        sink.failed(err as Error);
        return;
      }
      this.reopen(sink);
    }
  }

  /**
   * After an overflow the queue holds only stale notifications, and a second
   * bun stream on the same socket can stop delivering for good (seen with bun
   * 1.4): read from a new socket instead. It subscribes before the watcher
   * re-reads every link, so nothing that happens meanwhile is missed.
   */
  private reopen(sink: EventSink): void {
    let fd;
    try {
      fd = this.sockets.openEvents();
    } catch (err) {
      sink.failed(new Error(`cannot open a new netlink socket after an overflow: ${(err as Error).message}`));
      return;
    }
    this.sockets.close(this.fd); // the errored stream closed its own copy
    this.fd = fd;
    this.start(sink);
    sink.lost('the netlink receive queue overflowed (ENOBUFS)');
  }

  async stop(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    await reader?.cancel().catch(() => undefined);
    // Bun leaves the fd open on cancel; it is ours to close, once.
    if (this.fd >= 0) this.sockets.close(this.fd);
    this.fd = -1;
  }
}

/** Hands each notification in `bytes` (one or more whole datagrams) to the sink. */
export function dispatch(bytes: Uint8Array, sink: EventSink): void {
  let messages;
  try {
    messages = decodeMessages(bytes);
  } catch (err) {
    sink.lost(`undecodable netlink notification (${(err as Error).message})`);
    return;
  }
  for (const msg of messages) {
    const n = decodeNotification(msg);
    if (n?.kind === 'link') sink.link(n.link, n.removed);
    else if (n?.kind === 'state') sink.state(n.ifindex);
  }
}
