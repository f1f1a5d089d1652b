import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GUESTNET, Netns, veth, type Ran } from '../helpers/netns';
import { until } from './watch-process';

// The README demo's network, as an attacker sees it: an upstream host
// (203.0.113.1, also 169.254.169.254, a cloud's metadata address) and a LAN
// host (203.0.113.3, routes 100.64.0.0/16 and 169.254.0.1 via the netvm) on
// one bridge with the netvm's hardware NIC (203.0.113.2); clients A
// (100.64.0.17) and B (100.64.0.18) on provider links. Plus the tools the
// boundary tests attack with: crafted frames (test/attack/send.py), packet
// counters in a probe table, TCP listeners and connects.

export const UPSTREAM = '203.0.113.1';
export const UPLINK = '203.0.113.2';
export const LAN = '203.0.113.3';
export const METADATA = '169.254.169.254';
export const GATEWAY = '169.254.0.1';
export const A = '100.64.0.17';
export const B = '100.64.0.18';
/** The netvm's ends of A's and B's links (what a client's frames are addressed to). */
export const GW_MAC = { a: '0a:b3:ec:80:00:11', b: '0a:b3:ec:80:00:12' } as const;

const SEND = join(__dirname, '../attack/send.py');
// Debian's scapy is for Debian's python, whatever `python3` is first on PATH.
const PYTHON = '/usr/bin/python3';

export interface Net {
  readonly up: Netns;
  readonly lan: Netns;
  readonly nv: Netns;
  readonly a: Netns;
  readonly b: Netns;
}

/** Builds the network; clients are configured, the netvm is left to the test's `apply`. */
export function buildNet(): Net {
  const [up, lan, nv, a, b] = ['up', 'lan', 'nv', 'ca', 'cb'].map((t) => new Netns(t));
  const net = { up, lan, nv, a, b };
  try {
    wire(net);
  } catch (err) {
    deleteNet(net);
    throw err;
  }
  return net;
}

function wire({ up, lan, nv, a, b }: Net): void {
  // No duplicate address detection: IPv6 addresses are usable at once.
  for (const ns of [up, lan, nv, a, b]) ns.sh('sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0');
  up.sh('ip link add br0 type bridge && ip link set br0 up');
  veth(nv, 'up0', '52:54:00:00:00:02', up, 'u0', '52:54:00:00:01:00');
  veth(lan, 'l0', '52:54:00:00:00:03', up, 'u1', '52:54:00:00:01:01');
  up.sh(`ip link set u0 master br0 up && ip link set u1 master br0 up
    ip addr add ${UPSTREAM}/24 dev br0 && ip addr add ${METADATA}/32 dev br0`);
  lan.sh(`ip addr add ${LAN}/24 dev l0 && ip link set l0 up
    ip route add 100.64.0.0/16 via ${UPLINK} && ip route add ${GATEWAY}/32 via ${UPLINK}`);
  nv.sh(`ip addr add ${UPLINK}/24 dev up0 && ip link set up0 up && ip route add default via ${UPSTREAM}`);
  veth(nv, 'p0', GW_MAC.a, a, 'c0', '0a:b3:ec:00:00:11');
  veth(nv, 'p1', GW_MAC.b, b, 'c0', '0a:b3:ec:00:00:12');
  for (const c of [a, b]) ok(c.guestnet(['apply']));
}

export function deleteNet(net: Net): void {
  Object.values(net).forEach((ns: Netns) => ns.delete());
}

/**
 * The network for one describe block: built before its tests, deleted after
 * them; `netvm(...options)` runs the netvm's `guestnet apply` with the backend's flags.
 */
export function useNet(flags: readonly string[]): { net: Net; netvm: (...extra: string[]) => void } {
  const net = {} as Net;
  beforeAll(() => {
    if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
    Object.assign(net, buildNet());
  });
  afterAll(() => deleteNet(net));
  return { net, netvm: (...extra) => void ok(net.nv.guestnet(['apply', ...flags, ...extra])) };
}

export function ok(r: Ran): Ran {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r;
}

/** A packet `send.py` builds (see its BUILD table). */
export type Craft =
  | { kind: 'icmp'; src: string; dst: string; id: number }
  | { kind: 'udp'; src: string; dst: string; port: number; count?: number }
  | { kind: 'syn'; src: string; dst: string; port: number }
  | { kind: 'arp'; senders: string[]; target: string; mac?: string }
  | { kind: 'ra'; src: string; prefix: string; mtu: number }
  | { kind: 'frag-needed'; src: string; dst: string; mtu: number; quote: { src: string; dst: string; id: number; seq: number } };

/** Sends crafted frames out of `ns`'s `iface`, unicast to `gwMac`, in order. */
export function send(ns: Netns, gwMac: string, packets: Craft[], iface = 'c0'): void {
  ok(ns.run(PYTHON, [SEND, iface, gwMac, JSON.stringify(packets)]));
}

let counters = 0;

/** Counts packets matching an nft `match` as they arrive in `ns` (before any other hook sees them). */
export function counter(ns: Netns, match: string): () => number {
  const name = `c${counters++}`;
  ns.sh(`nft add table inet probe
    nft add chain inet probe pre '{ type filter hook prerouting priority -400; }'
    nft add counter inet probe ${name}
    nft add rule inet probe pre ${match} counter name ${name}`);
  return () => {
    const out = JSON.parse(ns.sh(`nft -j list counter inet probe ${name}`)) as { nftables: { counter?: { packets: number } }[] };
    return out.nftables.find((o) => o.counter)?.counter?.packets ?? NaN;
  };
}

/** Waits until a counter reaches `n`: a control packet sent after the attack has crossed, so the attack has too. */
export const reaches = (what: string, count: () => number, n = 1): Promise<void> => until(what, () => count() >= n);

/** A TCP listener (`addr` may be `[::]` for IPv6 only), stopped by `close`. */
export async function listen(ns: Netns, addr: string, port: number): Promise<{ close: () => void }> {
  const v6 = addr.startsWith('[');
  const spec = `${v6 ? 'TCP6' : 'TCP4'}-LISTEN:${port},bind=${addr},reuseaddr,fork${v6 ? ',ipv6only=1' : ''}`;
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns.name, 'socat', spec, 'EXEC:/bin/true'], { stdio: 'ignore' });
  await until(`${ns.name} listens on ${port}`, () => ns.sh('ss -Htln').includes(`:${port} `));
  return { close: () => child.kill() };
}

/** Whether a TCP connection from `ns` to `host:port` is accepted within 2 s. */
export function connects(ns: Netns, host: string, port: number): Promise<boolean> {
  const target = host.includes(':') ? `TCP6:[${host}]:${port}` : `TCP4:${host}:${port}`;
  return new Promise((res) => {
    const child = spawn('ip', ['netns', 'exec', ns.name, 'socat', '-u', 'OPEN:/dev/null', `${target},connect-timeout=2`], { stdio: 'ignore' });
    child.on('close', (code) => res(code === 0));
  });
}

/** One echo request, one second for the reply: for pings that must not cross. */
export const pingOnce = (ns: Netns, address: string, ...opts: string[]): boolean =>
  ns.run('ping', ['-c', '1', '-W', '1', ...opts, address]).code === 0;

/** The link-local IPv6 address of `ifname` in `ns`. */
export function linkLocal(ns: Netns, ifname: string): string {
  const out = JSON.parse(ns.sh(`ip -j -6 addr show dev ${ifname} scope link`)) as { addr_info: { local: string }[] }[];
  const addr = out[0]?.addr_info[0]?.local;
  if (!addr) throw new Error(`${ns.name}: ${ifname} has no link-local address`);
  return addr;
}
