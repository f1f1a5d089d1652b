// Byte-for-byte tests of the rtnetlink encoder and decoder.
//
// Where the expected bytes come from: iproute2 (`ip`) run under
//   ip netns exec gn-nl-N strace -e trace=sendmsg,recvmsg -e write=3 -e read=3 -xx ip ...
// in a throwaway namespace holding a veth pair, v0 (ifindex 3) and v1. The
// hex below is strace's dump of what `ip` sent on its rtnetlink socket and
// what the kernel (6.18) answered; iproute2 used sequence number 0x6b0a3df6
// (1795833334) for every request. Requests guestnet sends with no `ip`
// equivalent captured here (the dumps) are spelled out field by field from
// the <linux/netlink.h> and <linux/rtnetlink.h> layouts.
import { decodeIpv4, encodeIpv4 } from '../../agent/netlink/ipv4';
import {
  decodeAttrs, decodeDone, decodeError, decodeMessages, encodeAttrs, stringAttr, u32Attr, NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI,
} from '../../agent/netlink/message';
import {
  addrAdd, addrDel, decodeAddr, decodeRoute, dumpAddrs, dumpLinks, dumpRoutes,
  linkGroup, linkUp, parseDst, routeAdd, routeDel,
} from '../../agent/netlink/rtnl';

const SEQ = 0x6b0a3df6;
const V0 = 3;
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Requests `ip` sent (nlmsghdr | fixed header | attributes).
const SENT = {
  // ip link set dev v0 up
  linkUp: '20000000 1000 0500 f63d0a6b 00000000 | 00 00 0000 03000000 01000000 01000000',
  // ip link set dev v0 group 26478 (iproute2 6.1, strace)
  linkGroup: '28000000 1000 0500 f63d0a6b 00000000 | 00 00 0000 03000000 00000000 00000000 | 0800 1b00 6e670000',
  // ip addr replace 100.64.165.70/32 dev v0 proto 179 (iproute2 >= 6.2; 6.1 sends the same without IFA_PROTO)
  addrReplace: '30000000 1400 0505 f63d0a6b 00000000 | 02 20 00 00 03000000 | 0800 0200 6440a546 0800 0100 6440a546 | 0500 0b00 b3000000',
  // ip addr del 100.64.165.70/32 dev v0
  addrDel: '28000000 1500 0500 f63d0a6b 00000000 | 02 20 00 00 03000000 | 0800 0200 6440a546 0800 0100 6440a546',
  // ip route replace 169.254.0.1/32 dev v0 metric 0 proto 179
  hostRoute: '34000000 1800 0505 f63d0a6b 00000000 | 02 20 00 00 fe b3 fd 01 00000000 | 0800 0100 a9fe0001 0800 0600 00000000 0800 0400 03000000',
  // ip route replace default via 169.254.0.1 dev v0 metric 100 proto 179
  defaultRoute: '34000000 1800 0505 f63d0a6b 00000000 | 02 00 00 00 fe b3 00 01 00000000 | 0800 0500 a9fe0001 0800 0600 64000000 0800 0400 03000000',
  // ip route del default via 169.254.0.1 dev v0 metric 100
  defaultRouteDel: '34000000 1900 0500 f63d0a6b 00000000 | 02 00 00 00 fe 00 ff 00 00000000 | 0800 0500 a9fe0001 0800 0600 64000000 0800 0400 03000000',
  // ip route del 169.254.0.1/32 dev v0 metric 0
  hostRouteDel: '34000000 1900 0500 f63d0a6b 00000000 | 02 20 00 00 fe 00 ff 00 00000000 | 0800 0100 a9fe0001 0800 0600 00000000 0800 0400 03000000',
};
const bytes = (s: string): Uint8Array => hex(s.replace(/\|/g, ''));

// Datagrams the kernel answered.
const RECEIVED = {
  // ack of `ip link set dev v0 up`: NLM_F_CAPPED (ip sets NETLINK_CAP_ACK), error 0
  ack: '2400000002000001f63d0a6b677e00000000000020000000 10000500f63d0a6b00000000',
  // `ip addr add` of an existing address: -EEXIST, capped, with NLM_F_ACK_TLVS
  // and NLMSGERR_ATTR_MSG "ipv4: Address already assigned"
  eexist:
    '6000000002000002f63d0a6b6f7e0000efffffff2800000014000506f63d0a6b000000000220000003000000' +
    '080002006440a546080001006440a54623000100697076343a204164647265737320616c72656164792061737369676e65640000',
  // second `ip route del default ...`: -ESRCH, no cap, the whole request echoed
  esrch:
    '4800000002000000f63d0a6b877e0000fdffffff3400000019000500f63d0a6b0000000002000000fe00ff00' +
    '0000000008000500a9fe000108000600640000000800040003000000',
  // second `ip addr del ...`: -EADDRNOTAVAIL with "ipv4: Address not found"
  eaddrnotavail:
    '5800000002000002f63d0a6b937e00009dffffff2800000015000500f63d0a6b000000000220000003000000' +
    '080002006440a546080001006440a5461c000100697076343a2041646472657373206e6f7420666f756e6400',
  // `ip -4 route show table main`: two RTM_NEWROUTE in one datagram ...
  routes:
    '3c00000018002200f63d0a6b7f7e000002000000fe0300010000000008000f00fe000000080006006400000008000500a9fe000108000400030000' +
    '003400000018002200f63d0a6b7f7e000002200000fe03fd010000000008000f00fe00000008000100a9fe00010800040003000000',
  // ... then NLMSG_DONE in the next one
  routesDone: '1400000003002200f63d0a6b7f7e000000000000',
  // `ip -4 addr show`: 100.64.165.70/32 on v0 (IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_FLAGS, IFA_CACHEINFO)
  addr:
    '4c00000014000200f73d0a6b7b7e00000220800003000000080001006440a546080002006440a5460700030076300000' +
    '080008008000000014000600ffffffffffffffff1e8300001e830000',
};

describe('requests match what iproute2 sends', () => {
  test('ip link set dev v0 up', () => {
    expect(toHex(linkUp(SEQ, V0))).toBe(toHex(bytes(SENT.linkUp)));
  });

  test('ip link set dev v0 group 26478', () => {
    expect(toHex(linkGroup(SEQ, V0, 26478))).toBe(toHex(bytes(SENT.linkGroup)));
  });

  test('ip addr replace / del 100.64.165.70/32 dev v0', () => {
    const addr = { address: '100.64.165.70', prefix: 32 };
    expect(toHex(addrAdd(SEQ, V0, addr))).toBe(toHex(bytes(SENT.addrReplace)));
    expect(toHex(addrDel(SEQ, V0, addr))).toBe(toHex(bytes(SENT.addrDel)));
  });

  test('ip route replace / del, on-link host route and default via a gateway', () => {
    const host = { dst: '169.254.0.1/32', metric: 0 };
    const dflt = { dst: 'default', via: '169.254.0.1', metric: 100 };
    expect(toHex(routeAdd(SEQ, V0, host))).toBe(toHex(bytes(SENT.hostRoute)));
    expect(toHex(routeAdd(SEQ, V0, dflt))).toBe(toHex(bytes(SENT.defaultRoute)));
    expect(toHex(routeDel(SEQ, V0, dflt))).toBe(toHex(bytes(SENT.defaultRouteDel)));
    expect(toHex(routeDel(SEQ, V0, host))).toBe(toHex(bytes(SENT.hostRouteDel)));
  });
});

describe('dump requests follow the kernel header layout', () => {
  test('RTM_GETLINK dump: ifinfomsg, IFLA_EXT_MASK = RTEXT_FILTER_SKIP_STATS', () => {
    // len 40, type 18, flags REQUEST|DUMP (0x301), seq 7, pid 0 | 16 zero bytes | nla 8, type 29, 8
    const want = '28000000 1200 0103 07000000 00000000' + '00'.repeat(16) + '0800 1d00 08000000';
    expect(toHex(dumpLinks(7))).toBe(toHex(hex(want)));
  });

  test('RTM_GETADDR and RTM_GETROUTE dumps, AF_INET, routes of the main table', () => {
    expect(toHex(dumpAddrs(7))).toBe(toHex(hex('18000000 1600 0103 07000000 00000000 02 00 00 00 00000000')));
    expect(toHex(dumpRoutes(7))).toBe(toHex(hex('1c000000 1a00 0103 07000000 00000000 02 000000 fe 000000 00000000')));
  });
});

describe('decoding kernel answers', () => {
  test('a plain ack, capped', () => {
    const [msg] = decodeMessages(hex(RECEIVED.ack));
    expect(msg).toMatchObject({ type: NLMSG_ERROR, seq: SEQ });
    expect(decodeError(msg)).toEqual({ errno: 0 });
  });

  test('errors with and without extended-ack text', () => {
    const [eexist] = decodeMessages(hex(RECEIVED.eexist));
    expect(decodeError(eexist)).toEqual({ errno: 17, message: 'ipv4: Address already assigned' });
    const [esrch] = decodeMessages(hex(RECEIVED.esrch));
    expect(decodeError(esrch)).toEqual({ errno: 3 });
    const [enotavail] = decodeMessages(hex(RECEIVED.eaddrnotavail));
    expect(decodeError(enotavail)).toEqual({ errno: 99, message: 'ipv4: Address not found' });
  });

  test('a multi-part route dump, then NLMSG_DONE', () => {
    const msgs = decodeMessages(hex(RECEIVED.routes));
    expect(msgs.map((m) => m.flags & NLM_F_MULTI)).toEqual([NLM_F_MULTI, NLM_F_MULTI]);
    expect(msgs.map(decodeRoute)).toEqual([
      { oif: V0, route: { dst: 'default', via: '169.254.0.1', metric: 100, proto: 3 } },
      { oif: V0, route: { dst: '169.254.0.1/32', metric: 0, proto: 3 } },
    ]);
    const [done] = decodeMessages(hex(RECEIVED.routesDone));
    expect(done.type).toBe(NLMSG_DONE);
    expect(decodeDone(done)).toBe(0);
  });

  test('IFA_PROTO, when present, is read back as the address\'s mark', () => {
    const [msg] = decodeMessages(addrAdd(SEQ, V0, { address: '100.64.165.70', prefix: 32 }));
    expect(decodeAddr(msg)).toEqual({ index: V0, addr: { address: '100.64.165.70', prefix: 32, proto: 179 } });
  });

  test('an address dump entry gives IFA_LOCAL and ifa_prefixlen', () => {
    const [msg] = decodeMessages(hex(RECEIVED.addr));
    expect(decodeAddr(msg)).toEqual({ index: V0, addr: { address: '100.64.165.70', prefix: 32 } });
  });

  test('routes of other tables and other types are skipped', () => {
    const local = hex(RECEIVED.routes.slice(0, 120));
    local[16 + 4] = 255; // rtm_table = RT_TABLE_LOCAL ...
    local[16 + 12 + 4] = 255; // ... and RTA_TABLE too
    expect(decodeRoute(decodeMessages(local)[0])).toBeUndefined();
    const blackhole = hex(RECEIVED.routes.slice(0, 120));
    blackhole[16 + 7] = 6; // RTN_BLACKHOLE
    expect(decodeRoute(decodeMessages(blackhole)[0])).toBeUndefined();
  });

  test('rejects a message whose length runs past the datagram', () => {
    expect(() => decodeMessages(hex(RECEIVED.routesDone).subarray(0, 19))).toThrow(/malformed/);
    const bad = hex(RECEIVED.routesDone);
    bad[0] = 0x40;
    expect(() => decodeMessages(bad)).toThrow(/malformed/);
    // Fewer bytes than a header left over: nothing more to decode.
    expect(decodeMessages(hex(RECEIVED.routesDone + '000000'))).toHaveLength(1);
  });
});

describe('primitives', () => {
  test('attributes are padded to 4 bytes and flag bits are masked on decode', () => {
    const enc = encodeAttrs([stringAttr(3, 'v0'), u32Attr(0x8000 | 4, 9)]);
    expect(toHex(enc)).toBe('07000300763000000800048009000000');
    const attrs = decodeAttrs(enc, 0);
    expect([...attrs.keys()]).toEqual([3, 4]);
  });

  test('IPv4 addresses and destinations', () => {
    expect(decodeIpv4(encodeIpv4('100.64.255.0'))).toBe('100.64.255.0');
    expect(decodeIpv4(encodeIpv4('0.0.0.0'))).toBe('0.0.0.0');
    for (const bad of ['100.64.1', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '', '1.2.3.4.5', '1..2.3', '1.2.3.1000', '1.2.3.4 ']) {
      expect(() => encodeIpv4(bad)).toThrow(/invalid IPv4/);
    }
    expect(parseDst('default').len).toBe(0);
    expect(parseDst('169.254.0.1').len).toBe(32);
    expect(parseDst('100.64.0.0/16')).toEqual({ bytes: Uint8Array.from([100, 64, 0, 0]), len: 16 });
    expect(() => parseDst('100.64.0.0/33')).toThrow(/prefix/);
    for (const bad of ['100.64.0.0/16/1', '100.64.0.0/', '100.64.0.0/1a', '100.64.0.0/ 8']) {
      expect(() => parseDst(bad)).toThrow(/destination/);
    }
  });
});
