import { EnvironmentError } from '../errors';
import { decodeMessages, type NlMessage } from '../netlink/message';
import { decodeNotification } from '../netlink/rtnl-read';
import { namesOurTable } from '../nft/decode';
import type { WatchSockets } from './sockets-bun';
import type { EventSink, EventSource } from './source';

/** What the watcher uses of a stream reader. */
interface Reader {
  read(): Promise<{ readonly done: boolean; readonly value?: Uint8Array }>;
  cancel(): Promise<void>;
}

/** One kind of netlink notifications: which groups, and what each message tells the sink. */
interface Subscription {
  readonly name: string;
  readonly open: (sockets: WatchSockets) => number;
  readonly dispatch: (bytes: Uint8Array, sink: EventSink) => void;
  /** A full receive queue dropped messages: what the sink must re-read. */
  readonly lost: (sink: EventSink, why: string) => void;
}

/**
 * Notifications on a netlink socket opened through bun:ffi. Bun's file
 * stream waits on the non-blocking fd in its event loop, so an idle watcher
 * makes no syscalls. A full receive queue (ENOBUFS) lost messages: the
 * watcher then re-reads what they were about, from a new socket.
 */
export class NetlinkEvents implements EventSource {
  readonly name: string;
  private fd = -1;
  private reader: Reader | undefined;

  private constructor(
    private readonly sockets: WatchSockets,
    private readonly sub: Subscription,
  ) {
    this.name = sub.name;
  }

  /** rtnetlink: links (each message carries the whole link, so the watcher plans that link alone), IPv4 addresses and routes (which name their link). */
  static open(): Promise<NetlinkEvents> {
    return NetlinkEvents.subscribe(LINKS);
  }

  /** nf_tables: every committed change to a table named guestnet. */
  static openTable(): Promise<NetlinkEvents> {
    return NetlinkEvents.subscribe(TABLE);
  }

  private static async subscribe(sub: Subscription): Promise<NetlinkEvents> {
    if (typeof Bun === 'undefined') throw new EnvironmentError(`${sub.name} events need the bun runtime`);
    try {
      const { WatchSockets } = await import('./sockets-bun');
      const events = new NetlinkEvents(new WatchSockets(), sub);
      events.fd = sub.open(events.sockets); // fail here, at open, rather than in start()
      return events;
    } catch (err) {
      throw new EnvironmentError(`cannot open a ${sub.name} socket: ${(err as Error).message}`);
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
        if (r.value) this.sub.dispatch(r.value, sink);
      }
      if (this.reader === reader) sink.failed(new Error(`${this.name} event stream ended`));
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
   * re-reads, so nothing that happens meanwhile is missed.
   */
  private reopen(sink: EventSink): void {
    let fd;
    try {
      fd = this.sub.open(this.sockets);
    } catch (err) {
      sink.failed(new Error(`cannot open a new ${this.name} socket after an overflow: ${(err as Error).message}`));
      return;
    }
    this.sockets.close(this.fd); // the errored stream closed its own copy
    this.fd = fd;
    this.start(sink);
    this.sub.lost(sink, `the ${this.name} receive queue overflowed (ENOBUFS)`);
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

/** The messages of one or more whole datagrams; undecodable bytes count as lost events. */
function messagesOf(bytes: Uint8Array, lost: (why: string) => void): NlMessage[] {
  try {
    return decodeMessages(bytes);
  } catch (err) {
    lost(`undecodable netlink notification (${(err as Error).message})`);
    return [];
  }
}

/** Hands each rtnetlink notification in `bytes` to the sink. */
export function dispatch(bytes: Uint8Array, sink: EventSink): void {
  for (const msg of messagesOf(bytes, (why) => sink.lost(why))) {
    const n = decodeNotification(msg);
    if (n?.kind === 'link') sink.link(n.link, n.removed);
    else if (n?.kind === 'state') sink.state(n.ifindex);
  }
}

/** Tells the sink once per chunk when an nf_tables notification in `bytes` names guestnet's table. */
export function dispatchTable(bytes: Uint8Array, sink: EventSink): void {
  let lost: string | undefined;
  const ours = messagesOf(bytes, (why) => (lost = why)).some(namesOurTable);
  if (lost !== undefined) sink.table(lost);
  else if (ours) sink.table();
}

const LINKS: Subscription = {
  name: 'netlink',
  open: (s) => s.openLinkEvents(),
  dispatch,
  lost: (sink, why) => sink.lost(why),
};

const TABLE: Subscription = {
  name: 'nf_tables',
  open: (s) => s.openTableEvents(),
  dispatch: dispatchTable,
  lost: (sink, why) => sink.table(why),
};
