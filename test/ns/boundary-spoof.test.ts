import { BACKENDS } from './backends';
import { until } from './watch-process';
import {
  A, B, counter, GATEWAY, GW_MAC, linkLocal, reaches, send, UPLINK, UPSTREAM, useNet,
} from './boundary-net';

// A hostile client forges: other sources (foreign and its neighbour's), ARP
// senders, router advertisements, ICMP errors. Each attack is followed by a
// control packet that must cross (sent after it, on the same path), so "the
// attack did not arrive" is read once the control has.

const FOREIGN = '198.51.100.7';

describe.each(BACKENDS)('a client speaks only as itself (%s)', (_name, flags) => {
  const { net, netvm } = useNet(flags);

  test('a forged foreign source reaches neither B nor upstream, not even un-NATed', async () => {
    netvm();
    const atB = counter(net.b, `ip saddr ${FOREIGN}`);
    const leaked = counter(net.up, 'icmp id 100');
    const genuine = counter(net.up, 'icmp id 101');
    send(net.a, GW_MAC.a, [
      { kind: 'icmp', src: FOREIGN, dst: B, id: 100 },
      { kind: 'icmp', src: FOREIGN, dst: UPSTREAM, id: 100 },
      { kind: 'icmp', src: A, dst: UPSTREAM, id: 101 },
    ]);
    await reaches("A's own echo request upstream", genuine);
    expect({ atB: atB(), upstream: leaked() }).toEqual({ atB: 0, upstream: 0 });
  });

  test("A cannot send as B: nothing goes upstream, and B gets no replies it never asked for", async () => {
    netvm();
    const forged = counter(net.up, 'icmp id 102');
    const repliesAtB = counter(net.b, 'icmp type echo-reply');
    const control = counter(net.a, 'icmp type echo-reply icmp id 103');
    send(net.a, GW_MAC.a, [
      { kind: 'icmp', src: B, dst: UPSTREAM, id: 102 },
      { kind: 'icmp', src: A, dst: UPSTREAM, id: 103 },
    ]);
    await reaches("the reply to A's own echo request", control);
    expect({ upstream: forged(), atB: repliesAtB() }).toEqual({ upstream: 0, atB: 0 });
  });

  test('with --allow-client-to-client A reaches B, still only from its own address', async () => {
    netvm('--allow-client-to-client');
    expect(net.a.ping(B)).toBe(true);
    const forged = counter(net.b, 'icmp id 104');
    const genuine = counter(net.b, 'icmp id 105');
    send(net.a, GW_MAC.a, [
      { kind: 'icmp', src: FOREIGN, dst: B, id: 104 },
      { kind: 'icmp', src: '100.64.0.99', dst: B, id: 104 },
      { kind: 'icmp', src: A, dst: B, id: 105 },
    ]);
    await reaches("A's own echo request at B", genuine);
    expect(forged()).toBe(0);
  });

  test('ARP is believed only for the link\'s own client address: forged senders leave no neighbour entries', async () => {
    netvm();
    net.nv.sh('ip neigh flush dev p0');
    // Foreign senders, and client-range ones (B's own address among them).
    const senders = [...Array.from({ length: 50 }, (_, i) => `198.51.100.${i + 1}`), ...Array.from({ length: 50 }, (_, i) => `100.64.1.${i + 1}`), B];
    send(net.a, GW_MAC.a, [
      { kind: 'arp', senders, target: GATEWAY },
      { kind: 'arp', senders: [A], target: GATEWAY, mac: '0a:b3:ec:00:00:11' },
    ]);
    const neighbours = (): string[] => (JSON.parse(net.nv.sh('ip -j -4 neigh show dev p0')) as { dst: string }[]).map((n) => n.dst);
    await until("A's own ARP request is believed", () => neighbours().includes(A));
    expect(neighbours().filter((ip) => senders.includes(ip))).toEqual([]);
  });

  test('a router advertisement from a client gives the netvm no default route, address or MTU', async () => {
    netvm();
    send(net.a, GW_MAC.a, [{ kind: 'ra', src: linkLocal(net.a, 'c0'), prefix: '2001:db8:17::', mtu: 1280 }]);
    // The control: the RA is processed in the sender's system call; a round trip over the link is later still.
    net.nv.sh(`ping -6 -c 1 -W 1 ${linkLocal(net.a, 'c0')}%p0 || true`);
    expect(net.nv.sh('ip -6 route show default')).toBe('');
    expect(net.nv.sh('ip -6 addr show scope global')).toBe('');
    expect(net.nv.sh('cat /proc/sys/net/ipv6/conf/p0/mtu').trim()).toBe('1500');
    expect(net.nv.sh('sysctl -n net.ipv6.conf.p0.accept_ra net.ipv6.conf.p0.autoconf')).toBe('0\n0\n');
  });

  test("a forged ICMP 'fragmentation needed' does not lower the netvm's path MTU; the upstream's own does", async () => {
    netvm();
    // The real flow the errors quote: upstream pings the netvm, which answers.
    net.nv.sh('ip route flush cache');
    expect(net.up.ping(UPLINK)).toBe(true);
    const id = Number(/ id=(\d+) /.exec(net.nv.sh(`conntrack -L -p icmp -s ${UPSTREAM} 2>/dev/null`))?.[1]);
    expect(Number.isInteger(id)).toBe(true);
    const error = (src: string, dst: string) =>
      ({ kind: 'frag-needed', src, dst, mtu: 552, quote: { src: UPLINK, dst: UPSTREAM, id, seq: 1 } }) as const;
    const pmtu = (): string => net.nv.sh(`ip route get ${UPSTREAM}`);
    try {
      send(net.a, GW_MAC.a, [error(A, GATEWAY), error(A, UPLINK), error(UPSTREAM, UPLINK)]);
      expect(pmtu()).not.toMatch(/mtu/);
      send(net.up, '52:54:00:00:00:02', [error(UPSTREAM, UPLINK)], 'br0');
      expect(pmtu()).toMatch(/mtu (lock )?552/);
    } finally {
      net.nv.sh('ip route flush cache');
    }
  });
});
