// The link-dump decoder and the watcher's notification decoding, against
// bytes the kernel sent. Provenance of test/data/netlink/newlink-v*.hex:
//   ip netns exec gn-cap strace -e trace=recvmsg -e read=3,4 ip link show dev v0
// in a namespace holding a veth pair v0 (ifindex 3, 0a:b3:ec:00:a5:46, up)
// and v1 (ifindex 2, 52:54:00:12:34:56, down), kernel 6.18: the RTM_NEWLINK
// answer for each end, 1,124 bytes with all its attributes (stats included).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Link } from '../../agent/convention/types';
import { decodeMessages, encodeAttrs, encodeIfAddr, encodeMessage, encodeRt, u32Attr, RTM_DELADDR, RTM_DELROUTE, RTM_NEWADDR } from '../../agent/netlink/message';
import { decodeLinkInfo, decodeNotification, dumpAddrsOf, dumpRoutesOf, RTM_DELLINK } from '../../agent/netlink/rtnl-read';
import { decodeAfSpec } from '../../agent/netlink/link-conf';
import { dispatch, dispatchTable } from '../../agent/watch/events-netlink';
import type { EventSink } from '../../agent/watch/source';

const captured = (name: string): Uint8Array =>
  Uint8Array.from(Buffer.from(readFileSync(join(__dirname, '../data/netlink', name), 'utf8').trim(), 'hex'));
const hex = (s: string): string => s.replace(/[\s|]+/g, '');
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// The kernel's defaults for a new link, from its IFLA_AF_SPEC (what /proc/sys shows).
const DEFAULTS = { 'ipv4/rp_filter': '0', 'ipv6/accept_ra': '1', 'ipv6/autoconf': '1' };
const V0: Link = { name: 'v0', ifindex: 3, mac: '0a:b3:ec:00:a5:46', type: 1, up: true, group: 0, sysctls: DEFAULTS };
const V1: Link = { name: 'v1', ifindex: 2, mac: '52:54:00:12:34:56', type: 1, up: false, group: 0, sysctls: DEFAULTS };

/** The same message as a notification of another type (the kernel sends the same payload). */
function retyped(bytes: Uint8Array, type: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint16(4, type, true);
  return copy;
}

describe('decodeAfSpec (a link\'s sysctls in IFLA_AF_SPEC)', () => {
  const conf = (values: Record<number, number>, count: number): Uint8Array => {
    const data = Buffer.alloc(4 * count);
    for (const [i, v] of Object.entries(values)) data.writeInt32LE(v, 4 * Number(i));
    return data;
  };
  // nested: family -> (IFLA_INET_CONF = 1 | IFLA_INET6_CONF = 2) -> s32 array
  const family = (af: number, type: number, data: Uint8Array) => ({ type: af, data: encodeAttrs([{ type, data }]) });

  test('rp_filter is IPv4 value 8 (1-based), accept_ra and autoconf IPv6 values 3 and 5 (0-based)', () => {
    const spec = encodeAttrs([family(2, 1, conf({ 7: 2 }, 33)), family(10, 2, conf({ 3: 0, 5: 1 }, 60))]);
    expect(decodeAfSpec(spec)).toEqual({ 'ipv4/rp_filter': '2', 'ipv6/accept_ra': '0', 'ipv6/autoconf': '1' });
  });

  test('a link without IPv6 has no IPv6 sysctls, as in /proc/sys', () => {
    expect(decodeAfSpec(encodeAttrs([family(2, 1, conf({ 7: 1 }, 33))]))).toEqual({ 'ipv4/rp_filter': '1' });
  });
});

describe('decodeLinkInfo (RTM_GETLINK answers)', () => {
  test('gives the same Link value sysfs discovery gives', () => {
    expect(decodeMessages(captured('newlink-v0.hex')).map(decodeLinkInfo)).toEqual([V0]);
    expect(decodeMessages(captured('newlink-v1.hex')).map(decodeLinkInfo)).toEqual([V1]);
  });

  test('a link without a hardware address has an empty MAC; other messages are not links', () => {
    const ifinfo = new Uint8Array(16);
    new DataView(ifinfo.buffer).setInt32(4, 9, true);
    const name = { type: 3, data: Uint8Array.from([...Buffer.from('wg0'), 0]) };
    const [msg] = decodeMessages(encodeMessage(16, 0, 1, ifinfo, [name]));
    expect(decodeLinkInfo(msg)).toEqual({ name: 'wg0', ifindex: 9, mac: '', type: 0, up: false, group: 0 });
    expect(decodeLinkInfo({ ...msg, type: RTM_NEWADDR })).toBeUndefined();
  });

  test('the link group comes from IFLA_GROUP', () => {
    const ifinfo = new Uint8Array(16);
    const name = { type: 3, data: Uint8Array.from([...Buffer.from('p0'), 0]) };
    const group = { type: 27, data: Uint8Array.of(0x6e, 0x67, 0, 0) };
    const [msg] = decodeMessages(encodeMessage(16, 0, 1, ifinfo, [name, group]));
    expect(decodeLinkInfo(msg)?.group).toBe(0x676e);
  });
});

describe('decodeNotification', () => {
  test('RTM_NEWLINK and RTM_DELLINK carry the link', () => {
    const [added] = decodeMessages(captured('newlink-v0.hex'));
    const [removed] = decodeMessages(retyped(captured('newlink-v0.hex'), RTM_DELLINK));
    expect(decodeNotification(added)).toEqual({ kind: 'link', link: V0, removed: false });
    expect(decodeNotification(removed)).toEqual({ kind: 'link', link: V0, removed: true });
  });

  test('IPv4 address and route removals name their link; additions and IPv6 are not news', () => {
    const addr = (family: number) =>
      encodeMessage(RTM_DELADDR, 0, 0, encodeIfAddr({ family, prefixlen: 32, flags: 0, scope: 0, index: 3 }));
    const route = encodeMessage(RTM_DELROUTE, 0, 0, encodeRt({
      family: 2, dstLen: 32, srcLen: 0, tos: 0, table: 254, protocol: 3, scope: 253, type: 1, flags: 0,
    }), [u32Attr(4, 3)]);
    const [a4, a6, r] = [addr(2), addr(10), route].map((b) => decodeMessages(b)[0]);
    expect(decodeNotification(a4)).toEqual({ kind: 'state', ifindex: 3 });
    expect(decodeNotification(a6)).toBeUndefined();
    expect(decodeNotification(r)).toEqual({ kind: 'state', ifindex: 3 });
    expect(decodeNotification({ ...a4, type: RTM_NEWADDR })).toBeUndefined();
  });
});

test('narrowed dumps: ifa_index, RTA_TABLE main and RTA_OIF set, everything else zero (NETLINK_GET_STRICT_CHK)', () => {
  // nlmsghdr (len, RTM_GETADDR=22, REQUEST|DUMP, seq 7, pid 0) | ifaddrmsg (AF_INET, 0, 0, 0, index 3)
  expect(toHex(dumpAddrsOf(7, 3))).toBe(hex('18000000 1600 0103 07000000 00000000 | 02 00 00 00 03000000'));
  // nlmsghdr (RTM_GETROUTE=26) | rtmsg (AF_INET, all zero) | RTA_TABLE = 254 | RTA_OIF = 3, as `ip -4 route show table main dev X`
  expect(toHex(dumpRoutesOf(7, 3))).toBe(hex('2c000000 1a00 0103 07000000 00000000 | 02 00 00 00 00 00 00 00 00000000 | 0800 0f00 fe000000 | 0800 0400 03000000'));
});

test('dispatch: every notification of a chunk reaches the sink; undecodable bytes count as lost events', () => {
  const calls: string[] = [];
  const sink: EventSink = {
    changed: () => calls.push('changed'),
    lost: (why) => calls.push(`lost: ${why}`),
    link: (link, removed) => calls.push(`${removed ? 'removed' : 'link'} ${link.name}`),
    state: (ifindex) => calls.push(`state ${ifindex}`),
    table: (lost) => calls.push(`table${lost ? `: ${lost}` : ''}`),
    failed: (err) => calls.push(`failed ${err.message}`),
  };
  const v0 = captured('newlink-v0.hex');
  const chunk = new Uint8Array([...v0, ...retyped(captured('newlink-v1.hex'), RTM_DELLINK)]);
  dispatch(chunk, sink);
  dispatch(Uint8Array.from([40, 0, 0, 0, 16, 0]), sink); // shorter than a header: nothing to decode
  dispatch(Uint8Array.from([...v0.subarray(0, 4), 0xff, 0xff, ...v0.subarray(6, 20)]), sink);
  expect(calls).toEqual(['link v0', 'removed v1', 'lost: undecodable netlink notification (netlink: malformed message length 1124 at offset 0)']);
});

test('dispatchTable: each datagram that touches guestnet\'s table wakes the watcher once; foreign ones and NEWGEN do not', () => {
  // `nft monitor`'s datagrams (test/data/nft/capture.sh): foreign table added, its NEWGEN; guestnet's table set
  // (two datagrams), NEWGEN; `nft flush ruleset` (both tables, two datagrams), NEWGEN.
  const datagrams = readFileSync(join(__dirname, '../data/nft/events.hex'), 'utf8').trim().split('\n');
  expect(datagrams).toHaveLength(8);
  const calls: string[] = [];
  const sink = { table: (lost?: string) => calls.push(lost ?? 'table') } as unknown as EventSink;
  const woke = datagrams.map((line) => {
    calls.length = 0;
    dispatchTable(Uint8Array.from(Buffer.from(line, 'hex')), sink);
    return calls.join();
  });
  expect(woke).toEqual(['', '', 'table', 'table', '', 'table', 'table', '']);
  const cut = Uint8Array.from(Buffer.from(datagrams[2], 'hex')).subarray(0, 40); // guestnet's, cut short
  calls.length = 0;
  dispatchTable(cut, sink);
  expect(calls).toEqual(['undecodable netlink notification (netlink: malformed message length 64 at offset 0)']);
});
