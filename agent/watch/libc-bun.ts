// The two sockets the watcher needs that neither node nor bun offer: an
// rtnetlink socket subscribed to link events, and a unix datagram to tell
// systemd we are ready. Load only under bun (callers import it dynamically).
import {
  AF_NETLINK, AF_UNIX, check, int32, netlinkAddress, NETLINK_ROUTE, openLibc, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK,
  SOCK_RAW, SOL_SOCKET, type LibcSymbols,
} from '../netlink/libc-bun';
import { unixAddress } from './notify';

const RTMGRP_LINK = 0x1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const MSG_NOSIGNAL = 0x4000;
// Room for a burst of hundreds of link notifications (1.5 KiB each, more
// as the kernel counts them) before it reports ENOBUFS and the watcher has
// to re-read everything; the usual default is 208 KiB.
const EVENT_BUFFER = 1024 * 1024;

export class Libc {
  private readonly c: LibcSymbols = openLibc();

  /** A non-blocking NETLINK_ROUTE socket that receives RTMGRP_LINK notifications. */
  openLinkEvents(): number {
    const fd = this.check('socket', this.c.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    try {
      // FORCE passes rmem_max with CAP_NET_ADMIN; without it, take what we may.
      if (this.c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, int32(EVENT_BUFFER), 4) < 0) {
        this.c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, int32(EVENT_BUFFER), 4);
      }
      const addr = netlinkAddress(RTMGRP_LINK);
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
    return check(this.c, call, result);
  }
}
