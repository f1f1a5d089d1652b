import type { Netns } from '../helpers/netns';
import { BACKENDS } from './backends';
import {
  A, B, connects, counter, GATEWAY, GW_MAC, linkLocal, listen, METADATA, pingOnce, reaches,
  send, UPLINK, UPSTREAM, useNet,
} from './boundary-net';
import { askPeer, withPeerEcho } from './peer-echo';

// Who reaches whom through the netvm: new flows only from clients towards
// the uplink, nothing new from the LAN to clients or the gateway address,
// clients see of the netvm only echo, DNS and opened ports, 169.254.0.0/16
// is never forwarded, IPv6 is isolated too, and one client's flows do not
// starve the other's. Every refusal sits beside a connection that works.

/** Conntrack entries in the netvm whose original source is `src`. */
const flows = (nv: Netns, src: string): number =>
  nv.run('conntrack', ['-L', '-p', 'udp', '-s', src]).stdout.split('\n').filter(Boolean).length;

describe.each(BACKENDS)('nothing comes in uninvited (%s)', (_name, flags) => {
  const { net, netvm } = useNet(flags);

  test('clients reach upstream by ICMP, TCP and UDP, masqueraded, and ping the gateway', async () => {
    netvm();
    expect(net.a.ping(UPSTREAM)).toBe(true);
    expect(net.b.ping(GATEWAY)).toBe(true);
    expect(await withPeerEcho(net.up, 'tcp', 9000, () => askPeer(net.a, 'tcp', UPSTREAM, 9000))).toBe(UPLINK);
    expect(await withPeerEcho(net.up, 'udp', 9001, () => askPeer(net.a, 'udp', UPSTREAM, 9001))).toBe(UPLINK);
  });

  test('the LAN opens nothing to a client or the gateway address; the netvm and clients themselves do', async () => {
    netvm();
    const servers = [await listen(net.a, '0.0.0.0', 7000), await listen(net.nv, GATEWAY, 53)];
    try {
      const [lanToA, lanToGateway, netvmToA, aToDns] = await Promise.all([
        connects(net.lan, A, 7000), connects(net.lan, GATEWAY, 53), connects(net.nv, A, 7000), connects(net.a, GATEWAY, 53),
      ]);
      expect({ lanToA, lanToGateway, netvmToA, aToDns }).toEqual({ lanToA: false, lanToGateway: false, netvmToA: true, aToDns: true });
    } finally {
      servers.forEach((s) => s.close());
    }
  });

  test("a client reaches neither the netvm's uplink address nor its IPv6 link-local services", async () => {
    netvm();
    const servers = [await listen(net.nv, UPLINK, 7002), await listen(net.nv, '[::]', 7003)];
    const ll = linkLocal(net.nv, 'p0');
    try {
      const [aToUplink, aToLinkLocal, lanToUplink, netvmToLinkLocal] = await Promise.all([
        connects(net.a, UPLINK, 7002), connects(net.a, `${ll}%c0`, 7003), connects(net.lan, UPLINK, 7002), connects(net.nv, `${ll}%p0`, 7003),
      ]);
      expect({ aToUplink, aToLinkLocal, lanToUplink, netvmToLinkLocal }).toEqual({ aToUplink: false, aToLinkLocal: false, lanToUplink: true, netvmToLinkLocal: true });
    } finally {
      servers.forEach((s) => s.close());
    }
  });

  test('--open-port tcp/8080 opens exactly that port to clients, and not to the LAN', async () => {
    const servers = [await listen(net.nv, '0.0.0.0', 8080), await listen(net.nv, '0.0.0.0', 8081)];
    try {
      netvm();
      expect(await connects(net.a, GATEWAY, 8080)).toBe(false);
      netvm('--open-port', 'tcp/8080');
      const [open, closed, lan] = await Promise.all([connects(net.a, GATEWAY, 8080), connects(net.a, GATEWAY, 8081), connects(net.lan, GATEWAY, 8080)]);
      expect({ open, closed, lan }).toEqual({ open: true, closed: false, lan: false });
    } finally {
      servers.forEach((s) => s.close());
    }
  });

  test('169.254.0.0/16 is never forwarded: a client does not reach the LAN\'s metadata address', () => {
    netvm();
    expect(net.nv.ping(METADATA)).toBe(true); // it is there, for the netvm itself
    const seen = counter(net.up, `ip daddr ${METADATA}`);
    expect(pingOnce(net.a, METADATA)).toBe(false);
    expect(seen()).toBe(0);
  });

  test('with IPv6 forwarding on, clients given IPv6 addresses reach neither each other nor the LAN', () => {
    netvm();
    const nvLl = linkLocal(net.nv, 'p0');
    const setup = `sysctl -qw net.ipv6.conf.all.forwarding=1
      ip -6 addr add 2001:db8:ff::2/64 dev up0
      ip -6 route add 2001:db8:0:17::/64 dev p0 && ip -6 route add 2001:db8:0:18::/64 dev p1
      ip -6 neigh replace 2001:db8:0:17::1 lladdr 0a:b3:ec:00:00:11 dev p0
      ip -6 neigh replace 2001:db8:0:18::1 lladdr 0a:b3:ec:00:00:12 dev p1`;
    // Static neighbours: a closed netvm answers no neighbour solicitation from a client.
    const client = (addr: string, ll: string, mac: string): string => `ip -6 addr add ${addr}/64 dev c0 nodad
      ip -6 route add default via ${ll} dev c0 && ip -6 neigh replace ${ll} lladdr ${mac} dev c0`;
    try {
      net.nv.sh(setup);
      net.a.sh(client('2001:db8:0:17::1', nvLl, GW_MAC.a));
      net.b.sh(client('2001:db8:0:18::1', linkLocal(net.nv, 'p1'), GW_MAC.b));
      net.lan.sh('ip -6 addr add 2001:db8:ff::3/64 dev l0 nodad && ip -6 route add 2001:db8::/48 via 2001:db8:ff::2');
      expect(net.nv.ping('2001:db8:0:17::1')).toBe(true); // the addresses work
      expect(net.lan.ping('2001:db8:ff::2')).toBe(true);
      const crossed = {
        aToB: pingOnce(net.a, '2001:db8:0:18::1'), aToLan: pingOnce(net.a, '2001:db8:ff::3'), lanToB: pingOnce(net.lan, '2001:db8:0:18::1'),
      };
      expect(crossed).toEqual({ aToB: false, aToLan: false, lanToB: false });
    } finally {
      net.nv.run('sh', ['-c', 'sysctl -qw net.ipv6.conf.all.forwarding=0; ip -6 addr flush scope global; ip -6 route flush proto boot']);
      for (const ns of [net.a, net.b, net.lan]) ns.run('sh', ['-c', 'ip -6 addr flush scope global; ip -6 route flush proto boot']);
    }
  });

  test('--client-flow-limit 50: A\'s flows beyond 50 are dropped, B still opens new ones', async () => {
    netvm('--client-flow-limit', '50');
    net.nv.run('conntrack', ['-F']);
    const fromA = counter(net.up, 'udp dport 10000-10199');
    const fromB = counter(net.up, 'udp dport 20000-20009');
    try {
      send(net.a, GW_MAC.a, [{ kind: 'udp', src: A, dst: UPSTREAM, port: 10000, count: 200 }]);
      send(net.b, GW_MAC.b, [{ kind: 'udp', src: B, dst: UPSTREAM, port: 20000, count: 10 }]);
      await reaches("B's ten flows upstream", fromB, 10);
      expect({ conntrackA: flows(net.nv, A), upstreamA: fromA(), conntrackB: flows(net.nv, B) }).toEqual({ conntrackA: 50, upstreamA: 50, conntrackB: 10 });
    } finally {
      net.nv.run('conntrack', ['-F']);
    }
  });
});
