// The two listening sockets, bound with IP_FREEBIND: the gateway address
// exists only while a provider link does, and links come and go; a
// free-bound socket receives on the address whenever it is there. Neither
// bun nor node can set the option, so the socket is made through libc and
// handed to bun (Bun.udpSocket and Bun.listen adopt a descriptor).
// Load only under bun (command.ts imports it dynamically).

import { EnvironmentError } from '../errors';
import { check, int32, libc, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET } from '../netlink/libc-bun';
import type { Endpoint } from './upstreams';

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOL_IP = 0;
const IP_FREEBIND = 15;
const SO_REUSEADDR = 2;

/** struct sockaddr_in { u16 family; u16 port (network order); u8 addr[4]; u8 zero[8]; } written into `out`. */
function putInetAddress(out: Uint8Array, address: string, port: number): Uint8Array {
  out[0] = AF_INET & 0xff;
  out[1] = AF_INET >> 8;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  // Dotted quad to bytes without split(): this runs for every datagram sent.
  let at = 4;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) {
      out[at++] = octet;
      octet = 0;
    } else octet = octet * 10 + c - 0x30;
  }
  out[at] = octet;
  return out;
}

export const inetAddress = (at: Endpoint): Uint8Array => putInetAddress(new Uint8Array(16), at.address, at.port);

/** One sockaddr for every send: sendto() copies it before it returns, so nothing is allocated per datagram. */
const sendAddress = new Uint8Array(16);

const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;

/**
 * One datagram from `fd` to `to`, through libc: a bun socket's send parses
 * the address text on every call, about a fifth of the forwarder's CPU per
 * query. False when the kernel would not take it (a full buffer, an ICMP
 * error queued for the socket): the datagram is dropped, as UDP may.
 */
export function sendTo(fd: number, msg: Uint8Array, to: Endpoint): boolean {
  const addr = putInetAddress(sendAddress, to.address, to.port);
  return Number(libc.sendto(fd, msg, msg.length, MSG_DONTWAIT | MSG_NOSIGNAL, addr, addr.length)) >= 0;
}

/** A non-blocking UDP socket on a port the kernel picks at random: one of the forwarder's towards upstreams. */
export function bindEphemeral(): number {
  return bindFree('udp', { address: '0.0.0.0', port: 0 });
}

/** A non-blocking socket bound to `at`, whether or not the address exists yet. */
export function bindFree(kind: 'udp' | 'tcp', at: Endpoint): number {
  const type = (kind === 'udp' ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
  const fd = check(libc, 'socket', libc.socket(AF_INET, type, 0));
  try {
    check(libc, 'setsockopt', libc.setsockopt(fd, SOL_IP, IP_FREEBIND, int32(1), 4));
    // A restarted resolver must not wait for its old connections' TIME_WAIT.
    if (kind === 'tcp') check(libc, 'setsockopt', libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, int32(1), 4));
    const addr = inetAddress(at);
    check(libc, 'bind', libc.bind(fd, addr, addr.length));
    return fd;
  } catch (err) {
    libc.close(fd);
    throw new EnvironmentError(`cannot listen on ${at.address}:${at.port} (${kind}): ${(err as Error).message}`);
  }
}
