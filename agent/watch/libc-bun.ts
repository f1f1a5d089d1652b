// The two sockets the watcher needs that neither node nor bun offer: an
// rtnetlink socket subscribed to link events, and a unix datagram to tell
// systemd we are ready. Load only under bun (callers import it dynamically).
import { dlopen, FFIType, read, type Pointer } from 'bun:ffi';
import { errnoText } from '../netlink/errno';
import { unixAddress } from './notify';

const AF_UNIX = 1;
const AF_NETLINK = 16;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const RTMGRP_LINK = 0x1;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const MSG_NOSIGNAL = 0x4000;
// Room for a burst of hundreds of link notifications (1.5 KiB each, more
// as the kernel counts them) before it reports ENOBUFS and the watcher has
// to re-read everything; the usual default is 208 KiB.
const EVENT_BUFFER = 1024 * 1024;

const { i32, u32, u64, i64, ptr } = FFIType;
const SYMBOLS = {
  socket: { args: [i32, i32, i32], returns: i32 },
  bind: { args: [i32, ptr, u32], returns: i32 },
  setsockopt: { args: [i32, i32, i32, ptr, u32], returns: i32 },
  sendto: { args: [i32, ptr, u64, i32, ptr, u32], returns: i64 },
  close: { args: [i32], returns: i32 },
  __errno_location: { args: [], returns: ptr },
} as const;

function openLibc() {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const failures: string[] = [];
  for (const name of ['libc.so.6', `libc.musl-${arch}.so.1`, 'libc.so']) {
    try {
      return dlopen(name, SYMBOLS).symbols;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`cannot load libc (${failures.join('; ')})`);
}

type Symbols = ReturnType<typeof openLibc>;

const int32 = (n: number): Uint8Array => new Uint8Array(new Int32Array([n]).buffer);

export class Libc {
  private readonly c: Symbols = openLibc();

  /** A non-blocking NETLINK_ROUTE socket that receives RTMGRP_LINK notifications. */
  openLinkEvents(): number {
    const fd = this.check('socket', this.c.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    try {
      // FORCE passes rmem_max with CAP_NET_ADMIN; without it, take what we may.
      if (this.c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, int32(EVENT_BUFFER), 4) < 0) {
        this.c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, int32(EVENT_BUFFER), 4);
      }
      // struct sockaddr_nl { u16 family; u16 pad; u32 pid = 0 (kernel picks); u32 groups; }
      const addr = new Uint8Array(12);
      addr[0] = AF_NETLINK;
      new DataView(addr.buffer).setUint32(8, RTMGRP_LINK, true);
      this.check('bind', this.c.bind(fd, addr, addr.length));
      return fd;
    } catch (err) {
      this.c.close(fd);
      throw err;
    }
  }

  /** Sends one datagram to a unix socket, from this process (so systemd credits our PID). */
  sendDatagram(path: string, text: string): void {
    const fd = this.check('socket', this.c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    try {
      const addr = unixAddress(path);
      const data = Buffer.from(text);
      this.check('sendto', Number(this.c.sendto(fd, data, data.length, MSG_NOSIGNAL, addr, addr.length)));
    } finally {
      this.c.close(fd);
    }
  }

  close(fd: number): void {
    this.c.close(fd);
  }

  private check(call: string, result: number): number {
    if (result >= 0) return result;
    throw new Error(`${call}: ${errnoText(read.i32(this.c.__errno_location() as Pointer, 0))}`);
  }
}
