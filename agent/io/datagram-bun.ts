// One datagram to a unix socket through bun:ffi (node has no unix datagram
// sockets): sd_notify's READY=1 for `watch` and `dns`. Load only under bun.
import { AF_UNIX, check, libc, SOCK_CLOEXEC, SOCK_DGRAM } from '../netlink/libc-bun';
import { unixAddress } from '../netlink/sockaddr';

const MSG_NOSIGNAL = 0x4000;

/** Sends one datagram to a unix socket, from this process (so systemd credits our PID). */
export function sendDatagram(path: string, text: string): void {
  const fd = check(libc, 'socket', libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  try {
    const addr = unixAddress(path);
    const data = Buffer.from(text);
    check(libc, 'sendto', Number(libc.sendto(fd, data, data.length, MSG_NOSIGNAL, addr, addr.length)));
  } finally {
    libc.close(fd);
  }
}
