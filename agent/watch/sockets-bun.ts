// The sockets the watcher needs that neither node nor bun offer: netlink
// sockets subscribed to events (rtnetlink: links, IPv4 addresses and
// routes; nfnetlink: nf_tables changes); io/datagram-bun.ts tells systemd
// we are ready. Load only under bun (callers import it dynamically); the
// libc binding is netlink/libc-bun.ts.
import { AF_NETLINK, check, int32, libc, NETLINK_ROUTE, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_SOCKET } from '../netlink/libc-bun';
import { netlinkAddress } from '../netlink/sockaddr';
import { NETLINK_NETFILTER } from '../nft/nfnl';

const RTMGRP_LINK = 0x1;
const RTMGRP_IPV4_IFADDR = 0x10;
const RTMGRP_IPV4_ROUTE = 0x40;
// <linux/netfilter/nfnetlink.h>: group 7, bit 6 of the bind mask.
const NFNLGRP_NFTABLES = 7;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
// Room for a burst of hundreds of notifications (1.5 KiB each, more as the
// kernel counts them) before it reports ENOBUFS and the watcher has to
// re-read everything; the usual default is 208 KiB.
const EVENT_BUFFER = 1024 * 1024;

export class WatchSockets {
  // The process's one libc binding (a second dlopen would compile its trampolines again).
  private readonly c = libc;

  /**
   * A non-blocking NETLINK_ROUTE socket that receives link notifications
   * (which carry the link) and IPv4 address and route notifications (which
   * name the link they were on).
   */
  openLinkEvents(): number {
    return this.openEvents(NETLINK_ROUTE, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE);
  }

  /**
   * A non-blocking NETLINK_NETFILTER socket that receives every committed
   * nf_tables change: one message per table, chain, rule, set... it touched.
   * Binding loads nf_tables if it is a module, so only VMs that keep a table open it.
   */
  openTableEvents(): number {
    return this.openEvents(NETLINK_NETFILTER, 1 << (NFNLGRP_NFTABLES - 1));
  }

  /** A non-blocking netlink socket bound to the multicast `groups` (a bind mask) of `protocol`. */
  private openEvents(protocol: number, groups: number): number {
    const fd = this.check('socket', this.c.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol));
    try {
      // FORCE passes rmem_max with CAP_NET_ADMIN; without it, take what we may.
      if (this.c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, int32(EVENT_BUFFER), 4) < 0) {
        this.c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, int32(EVENT_BUFFER), 4);
      }
      const addr = netlinkAddress(groups);
      this.check('bind', this.c.bind(fd, addr, addr.length));
      return fd;
    } catch (err) {
      this.c.close(fd);
      throw err;
    }
  }

  close(fd: number): void {
    this.c.close(fd);
  }

  private check(call: string, result: number): number {
    return check(this.c, call, result);
  }
}
