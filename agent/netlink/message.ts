// rtnetlink wire format: nlmsghdr, the fixed headers that follow it
// (ifinfomsg, ifaddrmsg, rtmsg, nlmsgerr) and rtattr TLVs. Plain TypeScript,
// no runtime-specific APIs, so jest on node tests it byte for byte.
// Layouts follow <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>
// and <linux/if_addr.h>. Integers are host order (every target is
// little-endian, checked below); IPv4 addresses are network order.

import { getI32, getU16, getU32, putU16, putU32 } from './bytes';

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_CAPPED = 0x100; // on acks: the echoed request is header-only
export const NLM_F_ACK_TLVS = 0x200; // on acks: extended-ack attributes follow
export const NLM_F_DUMP = 0x300;
export const NLM_F_CREATE = 0x400;

export const NLMSG_HDRLEN = 16;
const RTA_HDRLEN = 4;
const NLMSGERR_ATTR_MSG = 1;

// Netlink has no byte-order field; refuse to run where our little-endian
// assumption would silently produce garbage.
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
if (!HOST_LE) throw new Error('netlink: big-endian hosts are not supported');

/** One decoded netlink message; `payload` is everything after nlmsghdr. */
export interface NlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Uint8Array;
}

/** One rtattr: type and raw payload (without header or padding). */
export interface Attr {
  readonly type: number;
  readonly data: Uint8Array;
}

export const align4 = (n: number): number => (n + 3) & ~3;


/** Serialises attributes back to back, each padded to 4 bytes. */
export function encodeAttrs(attrs: readonly Attr[]): Uint8Array {
  let size = 0;
  for (const a of attrs) size += align4(RTA_HDRLEN + a.data.length);
  const out = new Uint8Array(size);
  let off = 0;
  for (const a of attrs) {
    putU16(out, off, RTA_HDRLEN + a.data.length);
    putU16(out, off + 2, a.type);
    out.set(a.data, off + RTA_HDRLEN);
    off += align4(RTA_HDRLEN + a.data.length);
  }
  return out;
}

/** A complete message: nlmsghdr (pid 0, i.e. to the kernel), fixed header, attributes. */
export function encodeMessage(
  type: number,
  flags: number,
  seq: number,
  header: Uint8Array,
  attrs: readonly Attr[] = [],
): Uint8Array {
  const body = encodeAttrs(attrs);
  const len = NLMSG_HDRLEN + align4(header.length) + body.length;
  const out = new Uint8Array(len); // pid (bytes 12-15) stays 0
  putU32(out, 0, len);
  putU16(out, 4, type);
  putU16(out, 6, flags);
  putU32(out, 8, seq);
  out.set(header, NLMSG_HDRLEN);
  out.set(body, NLMSG_HDRLEN + align4(header.length));
  return out;
}

/** struct ifinfomsg (16 bytes). */
export interface IfInfoMsg {
  readonly family: number;
  readonly type: number;
  readonly index: number;
  readonly flags: number;
  readonly change: number;
}
export const IFINFOMSG_LEN = 16;

export function encodeIfInfo(m: IfInfoMsg): Uint8Array {
  const out = new Uint8Array(IFINFOMSG_LEN);
  out[0] = m.family;
  putU16(out, 2, m.type);
  putU32(out, 4, m.index);
  putU32(out, 8, m.flags);
  putU32(out, 12, m.change);
  return out;
}

export function decodeIfInfo(p: Uint8Array): IfInfoMsg {
  need(p, IFINFOMSG_LEN, 'ifinfomsg');
  return {
    family: p[0],
    type: getU16(p, 2),
    index: getI32(p, 4),
    flags: getU32(p, 8),
    change: getU32(p, 12),
  };
}

/** struct ifaddrmsg (8 bytes). */
export interface IfAddrMsg {
  readonly family: number;
  readonly prefixlen: number;
  readonly flags: number;
  readonly scope: number;
  readonly index: number;
}
export const IFADDRMSG_LEN = 8;

export function encodeIfAddr(m: IfAddrMsg): Uint8Array {
  const out = new Uint8Array(IFADDRMSG_LEN);
  out[0] = m.family;
  out[1] = m.prefixlen;
  out[2] = m.flags;
  out[3] = m.scope;
  putU32(out, 4, m.index);
  return out;
}

export function decodeIfAddr(p: Uint8Array): IfAddrMsg {
  need(p, IFADDRMSG_LEN, 'ifaddrmsg');
  return {
    family: p[0],
    prefixlen: p[1],
    flags: p[2],
    scope: p[3],
    index: getU32(p, 4),
  };
}

/** struct rtmsg (12 bytes). */
export interface RtMsg {
  readonly family: number;
  readonly dstLen: number;
  readonly srcLen: number;
  readonly tos: number;
  readonly table: number;
  readonly protocol: number;
  readonly scope: number;
  readonly type: number;
  readonly flags: number;
}
export const RTMSG_LEN = 12;

export function encodeRt(m: RtMsg): Uint8Array {
  const out = new Uint8Array(RTMSG_LEN);
  out[0] = m.family;
  out[1] = m.dstLen;
  out[2] = m.srcLen;
  out[3] = m.tos;
  out[4] = m.table;
  out[5] = m.protocol;
  out[6] = m.scope;
  out[7] = m.type;
  putU32(out, 8, m.flags);
  return out;
}

export function decodeRt(p: Uint8Array): RtMsg {
  need(p, RTMSG_LEN, 'rtmsg');
  return {
    family: p[0],
    dstLen: p[1],
    srcLen: p[2],
    tos: p[3],
    table: p[4],
    protocol: p[5],
    scope: p[6],
    type: p[7],
    flags: getU32(p, 8),
  };
}

function need(p: Uint8Array, n: number, what: string): void {
  if (p.length < n) throw new Error(`netlink: truncated ${what} (${p.length} < ${n} bytes)`);
}

/** Splits one received datagram into its messages (a dump packs several). */
export function decodeMessages(buf: Uint8Array): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = getU32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw new Error(`netlink: malformed message length ${len} at offset ${off}`);
    }
    out.push({
      type: getU16(buf, off + 4),
      flags: getU16(buf, off + 6),
      seq: getU32(buf, off + 8),
      pid: getU32(buf, off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Attributes from `offset` on, by type; the last one of a type wins. */
export function decodeAttrs(buf: Uint8Array, offset: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  let off = align4(offset);
  while (off + RTA_HDRLEN <= buf.length) {
    const len = getU16(buf, off);
    if (len < RTA_HDRLEN || off + len > buf.length) break; // tolerate trailing junk
    // Mask NLA_F_NESTED / NLA_F_NET_BYTEORDER so lookups by plain type work.
    out.set(getU16(buf, off + 2) & 0x3fff, buf.subarray(off + RTA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

/**
 * Attributes from `offset` on, indexed by type (only types below `size`;
 * the last one of a type wins): an array, cheaper than decodeAttrs' Map
 * for the dump entries read by the hundred.
 */
export function attrsByType(buf: Uint8Array, offset: number, size: number): (Uint8Array | undefined)[] {
  const out = new Array<Uint8Array | undefined>(size);
  for (let off = align4(offset); off + RTA_HDRLEN <= buf.length; ) {
    const len = getU16(buf, off);
    if (len < RTA_HDRLEN || off + len > buf.length) break; // tolerate trailing junk
    const type = getU16(buf, off + 2) & 0x3fff;
    if (type < size) out[type] = buf.subarray(off + RTA_HDRLEN, off + len);
    off += align4(len);
  }
  return out;
}

/** What an NLMSG_ERROR says: errno is positive, 0 for a plain ack. */
export interface NlError {
  readonly errno: number;
  /** The kernel's extended-ack text, when it sent one. */
  readonly message?: string;
}

export function decodeError(msg: NlMessage): NlError {
  need(msg.payload, 4 + NLMSG_HDRLEN, 'nlmsgerr');
  const errno = negate(getI32(msg.payload, 0));
  if ((msg.flags & NLM_F_ACK_TLVS) === 0) return { errno };
  // Attributes follow the echoed request: whole, or header-only when capped.
  const echoed = msg.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : getU32(msg.payload, 4);
  const text = decodeAttrs(msg.payload, 4 + echoed).get(NLMSGERR_ATTR_MSG);
  return text ? { errno, message: decodeString(text) } : { errno };
}

/** The int that follows the header of NLMSG_DONE: 0 or a negative errno. */
export function decodeDone(msg: NlMessage): number {
  return msg.payload.length >= 4 ? negate(getI32(msg.payload, 0)) : 0;
}

// Kernel errors are negative errnos; avoid -0 for the plain ack.
const negate = (n: number): number => (n === 0 ? 0 : -n);

export function u32Attr(type: number, value: number): Attr {
  const data = new Uint8Array(4);
  putU32(data, 0, value);
  return { type, data };
}

export function decodeU32(data: Uint8Array): number {
  need(data, 4, 'u32 attribute');
  return getU32(data, 0);
}

// Stateless (no streaming): one of each serves every call.
const UTF8_OUT = new TextEncoder();
const UTF8_IN = new TextDecoder();

/** A NUL-terminated string attribute, as the kernel expects names. */
export function stringAttr(type: number, s: string): Attr {
  const bytes = UTF8_OUT.encode(s);
  const data = new Uint8Array(bytes.length + 1);
  data.set(bytes);
  return { type, data };
}

export function decodeString(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return UTF8_IN.decode(nul < 0 ? data : data.subarray(0, nul));
}

/** Messages back to back, as one datagram carries them. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) (out.set(p, off), (off += p.length));
  return out;
}
