// rtnetlink wire format: nlmsghdr, the fixed headers that follow it
// (ifinfomsg, ifaddrmsg, rtmsg, nlmsgerr) and rtattr TLVs. Plain TypeScript,
// no runtime-specific APIs, so jest on node tests it byte for byte.
// Layouts follow <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>
// and <linux/if_addr.h>. Integers are host order (every target is
// little-endian, checked below); IPv4 addresses are network order.

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

// Netlink has no byte-order field; refuse to run where our DataView
// little-endian assumption would silently produce garbage.
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

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

// Encoders write integers byte by byte (host order is little-endian, checked
// above): a DataView needs `.buffer`, which turns each small fresh array into
// one with an ArrayBuffer of its own, malloc'd outside the GC heap and kept
// until a collection; a plan of 4,096 links encodes ~14,000 requests.
function putU16(out: Uint8Array, off: number, v: number): void {
  out[off] = v;
  out[off + 1] = v >>> 8;
}

function putU32(out: Uint8Array, off: number, v: number): void {
  out[off] = v;
  out[off + 1] = v >>> 8;
  out[off + 2] = v >>> 16;
  out[off + 3] = v >>> 24;
}

function attrsSize(attrs: readonly Attr[]): number {
  let size = 0;
  for (const a of attrs) size += align4(RTA_HDRLEN + a.data.length);
  return size;
}

/** Writes attributes back to back from `off`, each padded to 4 bytes. */
function putAttrs(out: Uint8Array, off: number, attrs: readonly Attr[]): void {
  for (const a of attrs) {
    putU16(out, off, RTA_HDRLEN + a.data.length);
    putU16(out, off + 2, a.type);
    out.set(a.data, off + RTA_HDRLEN);
    off += align4(RTA_HDRLEN + a.data.length);
  }
}

/** Serialises attributes back to back, each padded to 4 bytes. */
export function encodeAttrs(attrs: readonly Attr[]): Uint8Array {
  const out = new Uint8Array(attrsSize(attrs));
  putAttrs(out, 0, attrs);
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
  const len = NLMSG_HDRLEN + align4(header.length) + attrsSize(attrs);
  const out = new Uint8Array(len);
  putU32(out, 0, len);
  putU16(out, 4, type);
  putU16(out, 6, flags);
  putU32(out, 8, seq);
  out.set(header, NLMSG_HDRLEN);
  putAttrs(out, NLMSG_HDRLEN + align4(header.length), attrs);
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
  const dv = view(p);
  return {
    family: dv.getUint8(0),
    type: dv.getUint16(2, true),
    index: dv.getInt32(4, true),
    flags: dv.getUint32(8, true),
    change: dv.getUint32(12, true),
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
  const out = Uint8Array.of(m.family, m.prefixlen, m.flags, m.scope, 0, 0, 0, 0);
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
    index: view(p).getUint32(4, true),
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
  const out = Uint8Array.of(m.family, m.dstLen, m.srcLen, m.tos, m.table, m.protocol, m.scope, m.type, 0, 0, 0, 0);
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
    flags: view(p).getUint32(8, true),
  };
}

function need(p: Uint8Array, n: number, what: string): void {
  if (p.length < n) throw new Error(`netlink: truncated ${what} (${p.length} < ${n} bytes)`);
}

/** Splits one received datagram into its messages (a dump packs several). */
export function decodeMessages(buf: Uint8Array): NlMessage[] {
  const dv = view(buf);
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = dv.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw new Error(`netlink: malformed message length ${len} at offset ${off}`);
    }
    out.push({
      type: dv.getUint16(off + 4, true),
      flags: dv.getUint16(off + 6, true),
      seq: dv.getUint32(off + 8, true),
      pid: dv.getUint32(off + 12, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Attributes from `offset` on, by type; the last one of a type wins. */
export function decodeAttrs(buf: Uint8Array, offset: number): Map<number, Uint8Array> {
  const dv = view(buf);
  const out = new Map<number, Uint8Array>();
  let off = align4(offset);
  while (off + RTA_HDRLEN <= buf.length) {
    const len = dv.getUint16(off, true);
    if (len < RTA_HDRLEN || off + len > buf.length) break; // tolerate trailing junk
    // Mask NLA_F_NESTED / NLA_F_NET_BYTEORDER so lookups by plain type work.
    out.set(dv.getUint16(off + 2, true) & 0x3fff, buf.subarray(off + RTA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

/**
 * The first attribute of `type` from `offset` on, without building a map:
 * a link dump carries ~50 attributes a link, and guestnet wants two.
 */
export function findAttr(buf: Uint8Array, offset: number, type: number): Uint8Array | undefined {
  const dv = view(buf);
  for (let off = align4(offset); off + RTA_HDRLEN <= buf.length; ) {
    const len = dv.getUint16(off, true);
    if (len < RTA_HDRLEN || off + len > buf.length) return undefined;
    if ((dv.getUint16(off + 2, true) & 0x3fff) === type) return buf.subarray(off + RTA_HDRLEN, off + len);
    off += align4(len);
  }
  return undefined;
}

/** What an NLMSG_ERROR says: errno is positive, 0 for a plain ack. */
export interface NlError {
  readonly errno: number;
  /** The kernel's extended-ack text, when it sent one. */
  readonly message?: string;
}

export function decodeError(msg: NlMessage): NlError {
  need(msg.payload, 4 + NLMSG_HDRLEN, 'nlmsgerr');
  const dv = view(msg.payload);
  const errno = negate(dv.getInt32(0, true));
  if ((msg.flags & NLM_F_ACK_TLVS) === 0) return { errno };
  // Attributes follow the echoed request: whole, or header-only when capped.
  const echoed = msg.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : dv.getUint32(4, true);
  const text = decodeAttrs(msg.payload, 4 + echoed).get(NLMSGERR_ATTR_MSG);
  return text ? { errno, message: decodeString(text) } : { errno };
}

/** The int that follows the header of NLMSG_DONE: 0 or a negative errno. */
export function decodeDone(msg: NlMessage): number {
  return msg.payload.length >= 4 ? negate(view(msg.payload).getInt32(0, true)) : 0;
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
  return view(data).getUint32(0, true);
}

/** A NUL-terminated string attribute, as the kernel expects names. */
export function stringAttr(type: number, s: string): Attr {
  const bytes = new TextEncoder().encode(s);
  const data = new Uint8Array(bytes.length + 1);
  data.set(bytes);
  return { type, data };
}

export function decodeString(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? data : data.subarray(0, nul));
}

/** Messages back to back, as one datagram carries them. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) (out.set(p, off), (off += p.length));
  return out;
}
