// NetlinkSocket over libc through bun:ffi. Load only under bun: backend.ts
// imports this module dynamically, after checking for the bun runtime.
import { EAGAIN, EINTR, errnoText } from './errno';
import {
  AF_NETLINK, check, errnoOf, int32, libc, NETLINK_ROUTE, SOCK_CLOEXEC, SOCK_RAW, SOL_SOCKET,
  type LibcSymbols,
} from './libc-bun';
import { netlinkAddress } from './sockaddr';
import { SyscallError, type NetlinkSocket } from './socket';

const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const NETLINK_GET_STRICT_CHK = 12;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
// Large enough for any single datagram of a dump (the kernel caps those at 32 KiB).
const RECV_BUFFER = 64 * 1024;
const RECV_TIMEOUT_SECONDS = 5;

/** Binds a netlink socket (rtnetlink unless told); the kernel picks our port id. */
export function openNetlinkSocket(protocol = NETLINK_ROUTE): NetlinkSocket {
  const fd = check(libc, 'socket', libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  try {
    const addr = netlinkAddress();
    check(libc, 'bind', libc.bind(fd, addr, addr.length));
    // struct timeval { i64 sec; i64 usec; }: a silent kernel must not hang us.
    const timeout = new Uint8Array(new BigInt64Array([BigInt(RECV_TIMEOUT_SECONDS), 0n]).buffer);
    check(libc, 'setsockopt', libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length));
    // Optional niceties: short acks, the kernel's text for errors, and dumps
    // narrowed to one link (4.20+; older kernels send all, callers filter).
    libc.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, int32(1), 4);
    libc.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, int32(1), 4);
    libc.setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, int32(1), 4);
  } catch (err) {
    libc.close(fd);
    throw err;
  }
  return new FfiNetlinkSocket(libc, fd);
}

class FfiNetlinkSocket implements NetlinkSocket {
  private readonly buffer = new Uint8Array(RECV_BUFFER);
  private open = true;

  constructor(
    private readonly libc: LibcSymbols,
    private readonly fd: number,
  ) {}

  send(buf: Uint8Array): void {
    for (;;) {
      const n = Number(this.libc.send(this.fd, buf, buf.length, 0));
      if (n >= 0) return;
      const errno = errnoOf(this.libc);
      if (errno !== EINTR) throw new SyscallError('send', errno, errnoText(errno));
    }
  }

  recv(): Uint8Array {
    const datagram = this.receive(0);
    if (!datagram) throw new SyscallError('recv', EAGAIN, 'no answer from the kernel (timed out)');
    return datagram;
  }

  recvQueued(): Uint8Array | undefined {
    return this.receive(MSG_DONTWAIT);
  }

  /** One datagram, or undefined when none came (timeout, or none queued with MSG_DONTWAIT). */
  private receive(flags: number): Uint8Array | undefined {
    for (;;) {
      // MSG_TRUNC makes recv return the real length, so truncation is visible.
      const n = Number(this.libc.recv(this.fd, this.buffer, this.buffer.length, MSG_TRUNC | flags));
      if (n > this.buffer.length) throw new Error(`netlink: datagram of ${n} bytes truncated`);
      // A view, not a copy: a dump of 4,096 links is ~5 MB of datagrams, each
      // decoded before the next is received (NetlinkSocket.recv's contract).
      if (n >= 0) return this.buffer.subarray(0, n);
      const errno = errnoOf(this.libc);
      if (errno === EAGAIN) return undefined;
      if (errno !== EINTR) throw new SyscallError('recv', errno, errnoText(errno));
    }
  }

  close(): void {
    if (this.open) this.libc.close(this.fd);
    this.open = false;
  }
}
