// rtnetlink requests for each plan step, and decoders for the dump replies
// readState needs. Each request matches, byte for byte apart from the
// sequence number, what iproute2 sends for the `ip` command in its comment.
import { RTPROT_GUESTNET } from '../convention/ownership';
import type { Addr, Route } from '../convention/types';
import { decodeIpv4, encodeIpv4, ipv4Attr } from './ipv4';
import {
  attrsByType, decodeIfAddr, decodeRt, decodeU32,
  encodeIfAddr, encodeIfInfo, encodeMessage, encodeRt, u32Attr,
  IFADDRMSG_LEN, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REPLACE, NLM_F_REQUEST,
  RTMSG_LEN, RTM_DELADDR, RTM_DELROUTE, RTM_GETADDR, RTM_GETLINK, RTM_GETROUTE, RTM_NEWADDR,
  RTM_NEWLINK, RTM_NEWROUTE,
  type Attr, type NlMessage,
} from './message';

const AF_UNSPEC = 0;
const AF_INET = 2;
const IFF_UP = 0x1;
const IFLA_GROUP = 27;
const IFLA_EXT_MASK = 29;
const RTEXT_FILTER_SKIP_STATS = 1 << 3;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_PROTO = 11;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_TABLE = 15;
export const RT_TABLE_MAIN = 254;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_NOWHERE = 255;
const RTN_UNICAST = 1;

const CHANGE = NLM_F_REQUEST | NLM_F_ACK;
const UPSERT = CHANGE | NLM_F_REPLACE | NLM_F_CREATE;

/** `ip link set dev X up` */
export function linkUp(seq: number, index: number): Uint8Array {
  const hdr = encodeIfInfo({ family: AF_UNSPEC, type: 0, index, flags: IFF_UP, change: IFF_UP });
  return encodeMessage(RTM_NEWLINK, CHANGE, seq, hdr);
}

/** `ip link set dev X group N` */
export function linkGroup(seq: number, index: number, group: number): Uint8Array {
  const hdr = encodeIfInfo({ family: AF_UNSPEC, type: 0, index, flags: 0, change: 0 });
  return encodeMessage(RTM_NEWLINK, CHANGE, seq, hdr, [u32Attr(IFLA_GROUP, group)]);
}

function addrMessage(type: number, flags: number, seq: number, index: number, addr: Addr, extra: Attr[] = []): Uint8Array {
  const hdr = encodeIfAddr({ family: AF_INET, prefixlen: checkPrefix(addr.prefix), flags: 0, scope: 0, index });
  // iproute2 sends IFA_LOCAL then IFA_ADDRESS; equal on non-point-to-point links.
  const attrs = [ipv4Attr(IFA_LOCAL, addr.address), ipv4Attr(IFA_ADDRESS, addr.address), ...extra];
  return encodeMessage(type, flags, seq, hdr, attrs);
}

/**
 * `ip addr replace A/P dev X proto 179` (iproute2 >= 6.2 syntax). IFA_PROTO
 * marks the address as guestnet's on Linux >= 6.1; older kernels ignore an
 * attribute they do not know.
 */
export function addrAdd(seq: number, index: number, addr: Addr): Uint8Array {
  return addrMessage(RTM_NEWADDR, UPSERT, seq, index, addr, [{ type: IFA_PROTO, data: Uint8Array.of(RTPROT_GUESTNET) }]);
}

/** `ip addr del A/P dev X` */
export function addrDel(seq: number, index: number, addr: Addr): Uint8Array {
  return addrMessage(RTM_DELADDR, CHANGE, seq, index, addr);
}

/** Splits 'default' or 'a.b.c.d[/len]' into network bytes and prefix length. */
export function parseDst(dst: string): { readonly bytes: Uint8Array; readonly len: number } {
  if (dst === 'default') return { bytes: new Uint8Array(4), len: 0 };
  const slash = dst.indexOf('/');
  if (slash < 0) return { bytes: encodeIpv4(dst), len: 32 };
  const len = smallDecimal(dst.slice(slash + 1));
  if (len === undefined) throw new Error(`invalid route destination "${dst}"`);
  return { bytes: encodeIpv4(dst.slice(0, slash)), len: checkPrefix(len) };
}

/** One or two ASCII digits as a number (no regex: see encodeIpv4). */
function smallDecimal(s: string): number | undefined {
  if (s.length < 1 || s.length > 2) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n;
}

function checkPrefix(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 32) throw new Error(`invalid IPv4 prefix length ${n}`);
  return n;
}

function routeAttrs(route: Route, index: number, dstBytes: Uint8Array, dstLen: number): Attr[] {
  const attrs: Attr[] = [];
  if (dstLen > 0) attrs.push({ type: RTA_DST, data: dstBytes });
  if (route.via !== undefined) attrs.push(ipv4Attr(RTA_GATEWAY, route.via));
  attrs.push(u32Attr(RTA_PRIORITY, route.metric), u32Attr(RTA_OIF, index));
  return attrs;
}

/**
 * `ip route replace DST [via GW] dev X metric M proto 179`: main table,
 * guestnet's own protocol (the ownership mark), scope link without a gateway (on-link) and universe with one.
 */
export function routeAdd(seq: number, index: number, route: Route): Uint8Array {
  const { bytes, len } = parseDst(route.dst);
  const scope = route.via === undefined ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  const hdr = encodeRt({
    family: AF_INET, dstLen: len, srcLen: 0, tos: 0, table: RT_TABLE_MAIN,
    protocol: RTPROT_GUESTNET, scope, type: RTN_UNICAST, flags: 0,
  });
  return encodeMessage(RTM_NEWROUTE, UPSERT, seq, hdr, routeAttrs(route, index, bytes, len));
}

/**
 * `ip route del DST [via GW] dev X metric M`: protocol, type and scope are
 * left as wildcards (unspec / nowhere), as iproute2 does, so any match goes.
 */
export function routeDel(seq: number, index: number, route: Route): Uint8Array {
  const { bytes, len } = parseDst(route.dst);
  const hdr = encodeRt({
    family: AF_INET, dstLen: len, srcLen: 0, tos: 0, table: RT_TABLE_MAIN,
    protocol: 0, scope: RT_SCOPE_NOWHERE, type: 0, flags: 0,
  });
  return encodeMessage(RTM_DELROUTE, CHANGE, seq, hdr, routeAttrs(route, index, bytes, len));
}

/** `ip link show` (every link; stats skipped to keep replies small). */
export function dumpLinks(seq: number): Uint8Array {
  const hdr = encodeIfInfo({ family: AF_UNSPEC, type: 0, index: 0, flags: 0, change: 0 });
  return encodeMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, hdr, [u32Attr(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)]);
}

/** `ip -4 addr show` */
export function dumpAddrs(seq: number): Uint8Array {
  const hdr = encodeIfAddr({ family: AF_INET, prefixlen: 0, flags: 0, scope: 0, index: 0 });
  return encodeMessage(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, hdr);
}

/**
 * `ip -4 route show table main`: under NETLINK_GET_STRICT_CHK the kernel
 * dumps the main table only (not the local table's route per address);
 * without it, every table, which decodeRoute filters.
 */
export function dumpRoutes(seq: number): Uint8Array {
  const hdr = encodeRt({
    family: AF_INET, dstLen: 0, srcLen: 0, tos: 0, table: RT_TABLE_MAIN, protocol: 0, scope: 0, type: 0, flags: 0,
  });
  return encodeMessage(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq, hdr);
}

/** An IPv4 RTM_NEWADDR reply; IFA_LOCAL is the interface's own address, IFA_PROTO its mark if any. */
export function decodeAddr(msg: NlMessage): { readonly index: number; readonly addr: Addr } | undefined {
  if (msg.type !== RTM_NEWADDR) return undefined;
  const hdr = decodeIfAddr(msg.payload);
  if (hdr.family !== AF_INET) return undefined;
  const attrs = attrsByType(msg.payload, IFADDRMSG_LEN, IFA_PROTO + 1);
  const local = attrs[IFA_LOCAL] ?? attrs[IFA_ADDRESS];
  if (!local) return undefined;
  const proto = attrs[IFA_PROTO];
  const addr: Addr = { address: decodeIpv4(local), prefix: hdr.prefixlen, ...(proto?.length ? { proto: proto[0] } : {}) };
  return { index: hdr.index, addr };
}

/**
 * An IPv4 unicast route of the main table with a single output interface;
 * undefined for anything else (local table, multipath, blackhole, ...).
 */
export function decodeRoute(msg: NlMessage): { readonly oif: number; readonly route: Route } | undefined {
  if (msg.type !== RTM_NEWROUTE) return undefined;
  const hdr = decodeRt(msg.payload);
  if (hdr.family !== AF_INET || hdr.type !== RTN_UNICAST) return undefined;
  const attrs = attrsByType(msg.payload, RTMSG_LEN, RTA_TABLE + 1);
  const table = attrs[RTA_TABLE];
  const oif = attrs[RTA_OIF];
  if ((table ? decodeU32(table) : hdr.table) !== RT_TABLE_MAIN || !oif) return undefined;
  const dst = attrs[RTA_DST];
  const gateway = attrs[RTA_GATEWAY];
  const priority = attrs[RTA_PRIORITY];
  const route: Route = {
    dst: hdr.dstLen === 0 ? 'default' : `${dst ? decodeIpv4(dst) : '0.0.0.0'}/${hdr.dstLen}`,
    ...(gateway ? { via: decodeIpv4(gateway) } : {}),
    metric: priority ? decodeU32(priority) : 0,
    proto: hdr.protocol,
  };
  return { oif: decodeU32(oif), route };
}
