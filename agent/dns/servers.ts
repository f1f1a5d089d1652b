// The client side: the UDP socket and the TCP listener on the gateway
// address (free-bound descriptors from sockets-bun.ts, adopted by bun).
// Every query is checked before it costs anything: a client's source, its
// rate, the shape of the message. Load only under bun.

import type { Socket, udp } from 'bun';
import { append, frame, splitFrames } from './frames';
import { isClientAddress, LIMITS, type RateLimiter } from './limits';
import { forwardOverTcp } from './tcp-forwarder';
import type { UdpForwarder } from './udp-forwarder';
import type { UpstreamSet } from './upstream-set';
import { sendTo } from './sockets-bun';
import { parseQuery } from './wire';

export interface ServerDeps {
  readonly udp: UdpForwarder;
  readonly upstreams: UpstreamSet;
  readonly limiter: RateLimiter;
}

/** Serves UDP clients on the adopted descriptor `fd`. */
export async function serveUdp(fd: number, deps: ServerDeps): Promise<udp.Socket<'uint8array'>> {
  return Bun.udpSocket({
    fd,
    binaryType: 'uint8array',
    socket: {
      data(_socket, msg, port, address) {
        if (!isClientAddress(address) || !deps.limiter.allow(address, Date.now())) return;
        // The runtime reuses its receive buffer: the query is copied (once) before it waits, and read in the copy.
        const query = msg.slice();
        const q = parseQuery(query);
        if (!q) return;
        deps.udp.forward(query, q, (answer) => void sendTo(fd, answer, { address, port }));
      },
      error: () => undefined, // an ICMP error about a client that went away

    },
  } as udp.SocketOptions<'uint8array'> & { fd: number });
}

interface Connection {
  readonly client: string;
  buffered: Uint8Array;
  unsent: Uint8Array;
  pending: number;
  open: boolean;
  idle: ReturnType<typeof setTimeout> | undefined;
}

/** Open TCP connections, counted per client address. */
class ConnectionCount {
  private total = 0;
  private readonly perClient = new Map<string, number>();

  admit(client: string): boolean {
    const n = this.perClient.get(client) ?? 0;
    if (this.total >= LIMITS.connections || n >= LIMITS.connectionsPerClient) return false;
    this.total++;
    this.perClient.set(client, n + 1);
    return true;
  }

  release(client: string): void {
    this.total--;
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n > 0) this.perClient.set(client, n);
    else this.perClient.delete(client);
  }
}

type Conn = Socket<Connection>;

function restartIdle(s: Conn): void {
  clearTimeout(s.data.idle);
  s.data.idle = setTimeout(() => s.end(), LIMITS.idleMs);
}

/** Writes what the kernel takes now; the rest waits for drain, up to LIMITS.unreadBytes. */
function write(s: Conn, bytes: Uint8Array): void {
  const unsent = s.data.unsent.length > 0 ? append(s.data.unsent, bytes) : bytes;
  const written = Math.max(0, s.write(unsent));
  s.data.unsent = unsent.subarray(written);
  if (s.data.unsent.length > LIMITS.unreadBytes) s.end(); // a client that does not read
}

/** Whole queries go upstream; garbage, a flood or too many pending close the connection. */
function received(s: Conn, chunk: Uint8Array, deps: ServerDeps): void {
  const frames = splitFrames(append(s.data.buffered, chunk));
  if (frames.kind === 'garbage') return void s.end();
  s.data.buffered = frames.rest;
  for (const msg of frames.messages) {
    const q = parseQuery(msg);
    if (!q || s.data.pending >= LIMITS.pendingPerConnection || !deps.limiter.allow(s.data.client, Date.now())) return void s.end();
    restartIdle(s);
    s.data.pending++;
    void forwardOverTcp(deps.upstreams, msg, q).then((answer) => {
      s.data.pending--;
      if (s.data.open) write(s, frame(answer));
    });
  }
}

function opened(s: Conn, count: ConnectionCount): void {
  const client = s.remoteAddress;
  const admitted = isClientAddress(client) && count.admit(client);
  // client '' marks a connection that was never counted.
  s.data = { client: admitted ? client : '', buffered: new Uint8Array(0), unsent: new Uint8Array(0), pending: 0, open: true, idle: undefined };
  if (admitted) restartIdle(s);
  else s.end();
}

function closed(s: Conn, count: ConnectionCount): void {
  s.data.open = false;
  clearTimeout(s.data.idle);
  if (s.data.client !== '') count.release(s.data.client);
}

/** Serves TCP clients on the adopted listening descriptor `fd`. */
export function serveTcp(fd: number, deps: ServerDeps): { stop(): void } {
  const count = new ConnectionCount();
  const listener = Bun.listen<Connection>({
    fd,
    socket: {
      open: (s: Conn) => opened(s, count),
      data: (s: Conn, chunk: Uint8Array) => received(s, chunk, deps),
      drain: (s: Conn) => write(s, new Uint8Array(0)),
      close: (s: Conn) => closed(s, count),
      error: () => undefined, // a reset connection closes; nothing else to do
    },
    // Bun.listen adopts a listening descriptor (FdSocketOptions), which its overloads do not name.
  } as unknown as Bun.TCPSocketListenOptions<Connection>);
  return { stop: () => listener.stop(true) };
}
