// What guestnet reads from rtnetlink beyond rtnl.ts's basics: whole links
// (discovery, and the links that link notifications carry), address and
// route dumps narrowed to one link, and what a notification is about.
import type { Link } from '../convention/types';
import {
  attrsByType, decodeAttrs, decodeIfAddr, decodeIfInfo, decodeString, decodeU32, encodeIfAddr, encodeIfInfo, encodeMessage, encodeRt,
  stringAttr, u32Attr,
  IFINFOMSG_LEN, NLM_F_DUMP, NLM_F_REQUEST, RTMSG_LEN, RTM_DELADDR, RTM_DELROUTE, RTM_GETADDR,
  RTM_GETLINK, RTM_GETROUTE, RTM_NEWLINK,
  type NlMessage,
} from './message';
import { decodeAfSpec } from './link-conf';

export const RTM_DELLINK = 17;
const AF_INET = 2;
const IFF_UP = 0x1;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_AF_SPEC = 26;
const IFLA_GROUP = 27;
const IFLA_EXT_MASK = 29;
const RTEXT_FILTER_SKIP_STATS = 1 << 3;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_TABLE = 15;
const RT_TABLE_MAIN = 254;
const RTM_F_LOOKUP_TABLE = 0x1000;
const RTM_F_FIB_MATCH = 0x2000;

/** "0a:b3:ec:00:a5:46", as sysfs prints a hardware address (empty when there is none). */
function macText(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return '';
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (i > 0 ? ':' : '') + (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return s;
}

/**
 * An RTM_NEWLINK or RTM_DELLINK message (a dump reply or a notification) as
 * the same `Link` value sysfs discovery gives; undefined for other messages.
 */
export function decodeLinkInfo(msg: NlMessage): Link | undefined {
  if (msg.type !== RTM_NEWLINK && msg.type !== RTM_DELLINK) return undefined;
  const hdr = decodeIfInfo(msg.payload);
  const attrs = attrsByType(msg.payload, IFINFOMSG_LEN, IFLA_GROUP + 1); // one pass over ~50 attributes
  const name = attrs[IFLA_IFNAME];
  if (name === undefined) return undefined;
  const group = attrs[IFLA_GROUP];
  const spec = attrs[IFLA_AF_SPEC];
  return {
    name: decodeString(name),
    ifindex: hdr.index,
    mac: macText(attrs[IFLA_ADDRESS]),
    type: hdr.type,
    up: (hdr.flags & IFF_UP) !== 0,
    group: group ? decodeU32(group) : 0,
    ...(spec ? { sysctls: decodeAfSpec(spec) } : {}),
  };
}

/** The link with this ifindex (`ip link show` of one link): one RTM_NEWLINK answer, or ENODEV. */
export function getLinkAt(seq: number, index: number): Uint8Array {
  const hdr = encodeIfInfo({ family: 0, type: 0, index, flags: 0, change: 0 });
  return encodeMessage(RTM_GETLINK, NLM_F_REQUEST, seq, hdr, [u32Attr(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)]);
}

/** `ip link show dev NAME`: one RTM_NEWLINK answer, or ENODEV. */
export function getLinkNamed(seq: number, name: string): Uint8Array {
  const hdr = encodeIfInfo({ family: 0, type: 0, index: 0, flags: 0, change: 0 });
  return encodeMessage(RTM_GETLINK, NLM_F_REQUEST, seq, hdr, [stringAttr(IFLA_IFNAME, name), u32Attr(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)]);
}

/**
 * `ip -4 addr show dev X`: with NETLINK_GET_STRICT_CHK the kernel sends
 * only this link's addresses (without it, all of them: callers filter too).
 */
export function dumpAddrsOf(seq: number, index: number): Uint8Array {
  const hdr = encodeIfAddr({ family: AF_INET, prefixlen: 0, flags: 0, scope: 0, index });
  return encodeMessage(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, hdr);
}

/**
 * `ip -4 route show table main dev X`: narrowed by RTA_TABLE and RTA_OIF
 * under NETLINK_GET_STRICT_CHK. The kernel still walks the whole main
 * table for it (routes have no index by device), but no longer the local
 * table too, which holds an entry for every address of every link.
 */
export function dumpRoutesOf(seq: number, index: number): Uint8Array {
  const hdr = encodeRt({
    family: AF_INET, dstLen: 0, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0,
  });
  return encodeMessage(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq, hdr, [u32Attr(RTA_TABLE, RT_TABLE_MAIN), u32Attr(RTA_OIF, index)]);
}

/**
 * `ip route get fibmatch DST oif X`: the route entry that traffic to DST
 * through link X would use, found by one walk down the routing trie (no
 * walk of the whole table, as a dump needs). RTM_F_LOOKUP_TABLE makes the
 * answer name its real table (a local-table entry would otherwise read as
 * main). EHOSTUNREACH or ENETUNREACH: no route through X covers DST.
 */
export function getRouteMatch(seq: number, index: number, dst: Uint8Array): Uint8Array {
  const hdr = encodeRt({
    family: AF_INET, dstLen: 32, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0,
    flags: RTM_F_LOOKUP_TABLE | RTM_F_FIB_MATCH,
  });
  return encodeMessage(RTM_GETROUTE, NLM_F_REQUEST, seq, hdr, [{ type: RTA_DST, data: dst }, u32Attr(RTA_OIF, index)]);
}

/** What one rtnetlink notification says, as far as the watcher cares. */
export type Notification =
  | { readonly kind: 'link'; readonly link: Link; readonly removed: boolean }
  /** An IPv4 address or route on this link went (additions are guestnet's own, mostly: not news). */
  | { readonly kind: 'state'; readonly ifindex: number };

export function decodeNotification(msg: NlMessage): Notification | undefined {
  switch (msg.type) {
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      const link = decodeLinkInfo(msg);
      return link && { kind: 'link', link, removed: msg.type === RTM_DELLINK };
    }
    case RTM_DELADDR: {
      const hdr = decodeIfAddr(msg.payload);
      return hdr.family === AF_INET ? { kind: 'state', ifindex: hdr.index } : undefined;
    }
    case RTM_DELROUTE: {
      if (msg.payload.length < RTMSG_LEN || msg.payload[0] !== AF_INET) return undefined;
      const oif = decodeAttrs(msg.payload, RTMSG_LEN).get(RTA_OIF);
      return oif && oif.length >= 4 ? { kind: 'state', ifindex: decodeU32(oif) } : undefined;
    }
    default:
      return undefined;
  }
}
