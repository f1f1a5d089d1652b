// nfnetlink wire format for nf_tables (<linux/netfilter/nfnetlink.h>,
// <linux/netfilter/nf_tables.h>): nlmsghdr + nfgenmsg + attributes, like
// rtnetlink, except that attribute integers are big-endian and nested
// attributes carry NLA_F_NESTED, as nft and libnftnl send them.
import { encodeAttrs, encodeMessage, type Attr } from '../netlink/message';

export const NETLINK_NETFILTER = 12;
export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 0x10;
export const NFNL_MSG_BATCH_END = 0x11;

export const NFT_MSG_NEWTABLE = 0;
export const NFT_MSG_GETTABLE = 1;
export const NFT_MSG_DELTABLE = 2;
export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_GETCHAIN = 4;
export const NFT_MSG_NEWRULE = 6;
export const NFT_MSG_GETRULE = 7;
export const NFT_MSG_NEWSET = 9;
export const NFT_MSG_GETSET = 10;
export const NFT_MSG_NEWGEN = 15;

export const AF_UNSPEC = 0;
export const NFPROTO_INET = 1;
export const NFPROTO_IPV4 = 2;
export const NFGENMSG_LEN = 4;
const NLA_F_NESTED = 0x8000;

/** The nlmsghdr type of an nf_tables message. */
export const nftType = (msg: number): number => (NFNL_SUBSYS_NFTABLES << 8) | msg;

/** struct nfgenmsg { u8 family; u8 version = 0; be16 res_id; } */
export function nfgenmsg(family: number, resId = 0): Uint8Array {
  return new Uint8Array([family, 0, resId >> 8, resId & 0xff]);
}

export function nftMessage(msg: number, flags: number, seq: number, attrs: readonly Attr[], family = NFPROTO_INET): Uint8Array {
  return encodeMessage(nftType(msg), flags, seq, nfgenmsg(family), attrs);
}

/** The batch delimiters; res_id names the subsystem the batch is for. */
export function batchMark(type: number, flags: number, seq: number): Uint8Array {
  return encodeMessage(type, flags, seq, nfgenmsg(AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
}

export function be32(type: number, value: number): Attr {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value >>> 0, false);
  return { type, data };
}

export function nested(type: number, attrs: readonly Attr[]): Attr {
  return { type: type | NLA_F_NESTED, data: encodeAttrs(attrs) };
}

export function readBe32(data: Uint8Array | undefined): number | undefined {
  if (!data || data.length < 4) return undefined;
  return new DataView(data.buffer, data.byteOffset, 4).getInt32(0, false);
}

/** Every attribute in order, repeats kept (lists of expressions). */
export function attrList(buf: Uint8Array): Attr[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Attr[] = [];
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = dv.getUint16(off, true);
    if (len < 4 || off + len > buf.length) break;
    out.push({ type: dv.getUint16(off + 2, true) & 0x3fff, data: buf.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
}

/** Attributes by type (the last of a type wins). */
export function attrMap(buf: Uint8Array): Map<number, Uint8Array> {
  return new Map(attrList(buf).map((a) => [a.type, a.data]));
}
