import { existsSync } from 'node:fs';
import { busyboxIpDir, GUESTNET, Netns } from '../helpers/netns';
import { until, WatchProcess } from './watch-process';

// `guestnet watch` in a namespace while links come, go, are renamed and
// change MAC; each event source once, each with a different backend, so the
// busybox-only combination (polling + busybox ip) is covered too.

const busybox = busyboxIpDir();
afterAll(() => busybox.cleanup());

const SOURCES: [string, string[]][] = [
  ['netlink events, netlink backend', ['--events', 'netlink', '--backend', 'netlink']],
  ['ip monitor events, iproute2 backend', ['--events', 'ip-monitor', '--backend', 'ip']],
  ['sysfs polling, busybox ip', ['--events', 'poll', '--poll-interval', '50', '--backend', 'ip', '--ip-binary', busybox.ip]],
];

const hex = (n: number) => n.toString(16).padStart(2, '0');
const clientMac = (n: number) => `0a:b3:ec:00:01:${hex(n)}`;
const clientAddr = (n: number) => `100.64.1.${n}/32`;
const metric = (n: number) => 1024 + 0x0100 + n;
const expectedRoutes = (ifname: string, n: number) => [
  `169.254.0.1 dev ${ifname} metric ${metric(n)}`,
  `default via 169.254.0.1 dev ${ifname} metric ${metric(n)}`,
];

/** Every interface's IPv4 addresses, from one `ip -j addr`. */
function addrMap(ns: Netns): Map<string, string[]> {
  const out = JSON.parse(ns.sh('ip -j -4 addr show')) as { ifname: string; addr_info: { local: string; prefixlen: number }[] }[];
  return new Map(out.map((l) => [l.ifname, l.addr_info.map((a) => `${a.local}/${a.prefixlen}`).sort()]));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});

describe.each(SOURCES)('watch (%s)', (_name, flags) => {
  let ns: Netns;
  let peer: Netns;
  let watcher: WatchProcess | undefined;

  // Link gN (MAC ...:01:NN) here, its peer pN in the peer namespace.
  const addLinks = (ns: Netns, ids: number[]) =>
    ns.sh(ids.map((n) => `ip link add g${n} address ${clientMac(n)} type veth peer name p${n} netns ${peer.name}`).join('\n'));

  beforeEach(async () => {
    ns = new Netns('watch');
    peer = new Netns('wpeer');
    watcher = new WatchProcess(ns, flags);
    await watcher.ready();
  });
  afterEach(async () => {
    const w = watcher;
    watcher = undefined;
    const exit = await w?.stop();
    ns.delete();
    peer.delete();
    if (w) expect(exit).toEqual({ code: 0, signal: null });
  });

  test('configures a burst of 50 new links, then forgets the removed half and keeps the rest', async () => {
    const all = range(1, 50);
    addLinks(ns, all);
    const configured = (n: number) => addrMap(ns).get(`g${n}`)?.includes(clientAddr(n)) ?? false;
    await until('all 50 links have their address', () => all.every(configured), 20_000);
    await until('all 100 routes are in', () => ns.routes().length === 100, 10_000);

    const gone = all.filter((n) => n % 2 === 0);
    const kept = all.filter((n) => n % 2 === 1);
    ns.sh(gone.map((n) => `ip link del g${n}`).join('\n'));
    await until('the watcher logged every removal', () => gone.every((n) => watcher?.lines(new RegExp(`g${n}: removed \\(was client`)).length === 1));

    const addrs = addrMap(ns);
    for (const n of kept) expect(addrs.get(`g${n}`)).toEqual([clientAddr(n)]);
    expect(ns.routes()).toEqual(kept.flatMap((n) => expectedRoutes(`g${n}`, n)).sort());
    expect(watcher?.lines(/error/)).toEqual([]);
  }, 40_000); // its own waits allow 30 s: on a busy machine each `ip -j` check takes a while

  test('follows a rename and MAC changes, also to a foreign MAC', async () => {
    addLinks(ns, [7]);
    await until('g7 is configured', () => ns.routes().length === 2);
    ns.sh('ip link set g7 name renamed7');
    await until('the rename is logged', () => watcher?.lines(/renamed7: renamed from g7/).length === 1);
    expect(addrMap(ns).get('renamed7')).toEqual([clientAddr(7)]);
    expect(ns.routes()).toEqual(expectedRoutes('renamed7', 7).sort());

    ns.sh(`ip link set renamed7 address ${clientMac(9)}`);
    await until('the new address replaces the old', () => addrMap(ns).get('renamed7')?.join() === clientAddr(9));
    await until('the routes follow the new MAC', () => ns.routes().join() === expectedRoutes('renamed7', 9).sort().join());

    // A foreign MAC: guestnet's address and routes go, a person's address stays.
    ns.sh('ip addr add 192.168.7.7/24 dev renamed7 && ip link set renamed7 address 52:54:00:00:00:09');
    await until('what guestnet set is gone', () => addrMap(ns).get('renamed7')?.join() === '192.168.7.7/24' && ns.routes().length === 0);
    expect(watcher?.lines(/error/)).toEqual([]);
  });
});
