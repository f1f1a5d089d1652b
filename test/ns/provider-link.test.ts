import { existsSync } from 'node:fs';
import { GUESTNET, Netns, veth } from '../helpers/netns';
import { BACKENDS } from './backends';
import { until } from './watch-process';

// What a provider link's own settings hold against a hostile client (SPEC §9):
// its router advertisements and ARP with forged senders. Beside the provider
// link p0 the netvm has u0, a link guestnet does not own (a hardware MAC, the
// kernel's defaults), and the same packets go to both: u0 taking them shows
// the packets work, so p0 refusing them is guestnet's doing.

const CLIENT_MAC = '0a:b3:ec:00:a5:46';
const PROVIDER_MAC = '0a:b3:ec:80:a5:46';
// Debian's python3-scapy is a module of Debian's python, whatever `python3` is first on PATH.
const PYTHON = '/usr/bin/python3';

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});

function scapy(ns: Netns, script: string): void {
  const r = ns.run(PYTHON, ['-c', `from scapy.all import *\n${script}`]);
  if (r.code !== 0) throw new Error(`scapy in ${ns.name}: ${r.stderr}`);
}

/** A router advertisement from fe80::1: a default router (high preference) and a prefix to autoconfigure from. */
const RA = `Ether(dst='33:33:00:00:00:01')/IPv6(src='fe80::1', dst='ff02::1', hlim=255)/ICMPv6ND_RA(routerlifetime=1800, prf=1)/ICMPv6NDOptPrefixInfo(prefix='2001:db8:1::', prefixlen=64, L=1, A=1, validlifetime=86400, preferredlifetime=86400)`;

/** 100 ARP requests for `target`, senders 198.51.100.1-50 and 100.64.1.51-100 (another client's range). */
const forgedArp = (iface: string, target: string): string => `
mac = get_if_hwaddr('${iface}')
sendp([Ether(dst='ff:ff:ff:ff:ff:ff', src=mac)/ARP(op=1, hwsrc=mac, psrc=('198.51.100.%d' if i <= 50 else '100.64.1.%d') % i, pdst='${target}') for i in range(1, 101)], iface='${iface}', verbose=False)
`;

function json<T>(ns: Netns, cmd: string): T[] {
  return JSON.parse(ns.sh(cmd) || '[]') as T[];
}

const defaultRoutes = (ns: Netns, dev: string): unknown[] => json(ns, `ip -j -6 route show default dev ${dev}`);
const globalAddrs = (ns: Netns, dev: string): unknown[] =>
  json<{ addr_info: unknown[] }>(ns, `ip -j -6 addr show dev ${dev} scope global`).flatMap((l) => l.addr_info);
const neighbours = (ns: Netns, dev: string): string[] => json<{ dst: string }>(ns, `ip -j -4 neigh show dev ${dev}`).map((n) => n.dst);

describe.each(BACKENDS)('provider link against its client (%s backend)', (_name, flags) => {
  let app: Netns;
  let net: Netns;

  beforeEach(() => {
    app = new Netns('app');
    net = new Netns('net');
    veth(app, 'c0', CLIENT_MAC, net, 'p0', PROVIDER_MAC);
    veth(app, 'l0', '52:54:00:00:00:02', net, 'u0', '52:54:00:00:00:01');
    app.sh('ip link set l0 up');
    net.sh('ip link set u0 up && ip addr add 203.0.113.2/24 dev u0');
    expect(net.guestnet(['apply', ...flags])).toMatchObject({ code: 0 });
    expect(app.guestnet(['apply', ...flags])).toMatchObject({ code: 0 });
  });
  afterEach(() => {
    app.delete();
    net.delete();
  });

  test('a client\'s router advertisement gives the netvm no default route and no address', async () => {
    scapy(app, `for i in ('c0', 'l0'): sendp(${RA}, iface=i, verbose=False)`);
    await until('u0 takes the RA', () => defaultRoutes(net, 'u0').length > 0 && globalAddrs(net, 'u0').length > 0);
    expect(defaultRoutes(net, 'p0')).toEqual([]);
    expect(globalAddrs(net, 'p0')).toEqual([]);
  });

  test('ARP requests with forged senders leave no neighbour entries; the real client\'s ARP works', async () => {
    scapy(app, forgedArp('c0', '169.254.0.1') + forgedArp('l0', '203.0.113.2'));
    await until('u0 has an entry per forged sender', () => neighbours(net, 'u0').length >= 100);
    expect(neighbours(net, 'p0')).toEqual([]);
    expect(app.ping('169.254.0.1')).toBe(true);
    expect(neighbours(net, 'p0')).toEqual(['100.64.165.70']);
  });
});
