import { spawnSync } from 'node:child_process';
import { GUESTNET, Netns, veth } from '../helpers/netns';
import { until, WatchProcess } from './watch-process';

// The watcher repairs, not only reacts to new links: a link that comes back
// up, and owned state someone else removed, get a pass for that link; a
// fight with another program is rate-limited and logged once. Readiness
// means every link is configured; a watcher that can configure nothing, or
// whose chosen event source cannot run, exits 1 without it.

const CLIENT_MAC = '0a:b3:ec:00:a5:46';
const PROVIDER_MAC = '0a:b3:ec:80:a5:46';
const METRIC = 1024 + 0xa546;
const CLIENT = {
  addrs: ['100.64.165.70/32'],
  routes: [`169.254.0.1 dev eth0 metric ${METRIC}`, `default via 169.254.0.1 dev eth0 metric ${METRIC}`].sort(),
};
const PROVIDER = { addrs: ['169.254.0.1/32'], routes: ['100.64.165.70 dev eth1 metric 0'] };

let app: Netns;
let net: Netns;
const watchers: WatchProcess[] = [];
const start = (ns: Netns, args: string[] = []) => {
  const w = new WatchProcess(ns, args);
  watchers.push(w);
  return w;
};
const state = (ns: Netns, ifname: string) => ({ addrs: ns.addrs(ifname), routes: ns.routes() });
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

beforeEach(() => {
  app = new Netns('rapp');
  net = new Netns('rnet');
  veth(app, 'eth0', CLIENT_MAC, net, 'eth1', PROVIDER_MAC);
});
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
  app.delete();
  net.delete();
});

test('link down and up on both ends: the kernel flushed the routes, the watchers put them back and ping crosses', async () => {
  const [a, n] = [start(app), start(net)];
  await Promise.all([a.ready(), n.ready()]);
  app.sh('ip link set eth0 down; ip link set eth0 up');
  net.sh('ip link set eth1 down; ip link set eth1 up');
  await until('the client routes are back', () => same(state(app, 'eth0'), CLIENT));
  await until('the provider route is back', () => same(state(net, 'eth1'), PROVIDER));
  expect(app.ping('169.254.0.1')).toBe(true);
  expect(net.ping('100.64.165.70')).toBe(true);
  expect([...a.lines(/error/), ...n.lines(/error/)]).toEqual([]);
});

test('a link someone took down is left down until it comes up again', async () => {
  const a = start(app);
  await a.ready();
  app.sh('ip link set eth0 down');
  await new Promise((r) => setTimeout(r, 300));
  expect(app.sh('ip -j link show eth0')).toContain('"DOWN"');
  app.sh('ip link set eth0 up');
  await until('configured again after up', () => same(state(app, 'eth0'), CLIENT));
});

test('an owned address and route removed by someone else are put back', async () => {
  const a = start(app);
  await a.ready();
  app.sh(`ip route del default via 169.254.0.1 dev eth0 metric ${METRIC}`);
  await until('the default route is back', () => same(state(app, 'eth0'), CLIENT));
  app.sh('ip addr del 100.64.165.70/32 dev eth0');
  await until('address and routes are back', () => same(state(app, 'eth0'), CLIENT));
  expect(a.lines(/error/)).toEqual([]);
});

test('a fight with another program is rate-limited, logged once, and settled after the window', async () => {
  const a = start(app);
  await a.ready();
  // Another tool deletes the address 40 times in about two seconds.
  app.sh('for i in $(seq 40); do ip addr del 100.64.165.70/32 dev eth0 2>/dev/null || true; sleep 0.05; done');
  await until('the limit is logged', () => a.lines(/eth0: warn: its state keeps changing/).length > 0); // (stderr is read meanwhile)
  const adds = a.lines(/eth0: .*addr.*100\.64\.165\.70/).length;
  expect(a.lines(/eth0: warn: its state keeps changing/)).toHaveLength(1);
  // 8 re-checks a 10 s window (ours count too), each adds the address at most once.
  expect(adds).toBeLessThanOrEqual(12);
  await until('settled once the window is over', () => same(state(app, 'eth0'), CLIENT), 15_000);
}, 30_000);

test('readiness waits for every link; without privilege nothing can be configured: exit 1, no readiness', () => {
  // s6's notification-fd as fd 3 of a process that may not change the network.
  const r = spawnSync('ip', ['netns', 'exec', app.name, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
    '--inh-caps=-all', GUESTNET, 'watch', '--notify-fd', '3'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 10_000 });
  expect(r.status).toBe(1);
  expect(r.output[3]).toBe('');
  expect(r.stderr).toMatch(/guestnet: error: cannot configure any inter-guest interface \(eth0: .*permission denied/);
});

test('an explicit --events ip-monitor that cannot run is an error (exit 1 with the cause), not a fallback', () => {
  const r = spawnSync('ip', ['netns', 'exec', app.name, GUESTNET, 'watch', '--events', 'ip-monitor', '--ip-binary', '/nonexistent/ip', '--notify-fd', '3'],
    { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 10_000 });
  expect(r.status).toBe(1);
  expect(r.output[3]).toBe('');
  expect(r.stderr).toBe('guestnet: error: cannot run "/nonexistent/ip" for ip-monitor events: not found\n');
  expect(r.stderr).not.toMatch(/falling back/);
});

