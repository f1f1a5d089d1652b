import { existsSync } from 'node:fs';
import { GUESTNET, Netns, veth } from '../helpers/netns';
import { BACKENDS } from './backends';
import { until, WatchProcess } from './watch-process';

// Two links of one role whose MACs derive one client address: like
// duplicate address detection, neither gets it, and guestnet says so.

const LINE = 'provider links eth1 and eth2 derive the same client address 100.64.0.17 from their MACs: none gets a route to it while more than one is there';

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});

describe.each(BACKENDS)('colliding client addresses (%s backend)', (_name, flags) => {
  let net: Netns;
  let peers: Netns;
  const apply = (ns: Netns, ...args: string[]) => ns.guestnet(['apply', ...flags, ...args]);
  const routesTo = (dev: string) => net.sh(`ip -4 route show dev ${dev} 100.64.0.17`).trim();

  beforeEach(() => {
    net = new Netns('co-net');
    peers = new Netns('co-peer');
    veth(net, 'eth1', '0a:b3:ec:80:00:11', peers, 'c1', '0a:b3:ec:00:00:11');
  });
  afterEach(() => {
    net.delete();
    peers.delete();
  });

  test('two provider links: neither routes the address, exit 1, one line naming both; status and report show it', () => {
    veth(net, 'eth2', '0a:b3:ec:81:00:11', peers, 'c2', '0a:b3:ec:01:00:11');
    const r = apply(net);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`guestnet: eth1: error: ${LINE}\n`);
    expect(r.stderr).toContain(`guestnet: eth2: error: ${LINE}\n`);
    expect([routesTo('eth1'), routesTo('eth2')]).toEqual(['', '']);
    expect([net.addrs('eth1'), net.addrs('eth2')]).toEqual([['169.254.0.1/32'], ['169.254.0.1/32']]);
    const st = JSON.parse(net.guestnet(['status', '--json', ...flags]).stdout) as { interfaces: { ifname: string; collision?: unknown; drifted?: boolean }[] };
    const eth2 = st.interfaces.find((i) => i.ifname === 'eth2');
    expect(eth2).toMatchObject({ collision: { address: '100.64.0.17', role: 'provider', ifnames: ['eth1', 'eth2'] }, drifted: false });
    expect(net.guestnet(['status', ...flags]).stdout).toContain(`  COLLISION: ${LINE}\n`);
    const report = net.guestnet(['report', '--json', ...flags]);
    expect(report.code).toBe(1);
    const checks = (JSON.parse(report.stdout) as { checks: { id: string; detail?: string }[] }).checks;
    expect(checks.find((c) => c.id === 'client-address-collisions')).toEqual({ id: 'client-address-collisions', verdict: 'problem', detail: LINE });
  });

  test('hotplug: `apply eth2` sees eth1 already there and takes the route from it too; with eth2 gone, eth1 gets it back', () => {
    expect(apply(net)).toMatchObject({ code: 0 });
    expect(routesTo('eth1')).toMatch(/^100\.64\.0\.17 /);
    veth(net, 'eth2', '0a:b3:ec:81:00:11', peers, 'c2', '0a:b3:ec:01:00:11');
    const r = apply(net, 'eth2');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`guestnet: eth1: error: ${LINE}\n`);
    expect([routesTo('eth1'), routesTo('eth2')]).toEqual(['', '']);
    net.sh('ip link del eth2');
    expect(apply(net, 'eth1')).toMatchObject({ code: 0 });
    expect(routesTo('eth1')).toMatch(/^100\.64\.0\.17 /);
  });

  test('watch: a colliding link that comes takes the route from the first; when it goes, the first gets it back', async () => {
    // busybox has no `ip monitor`: sysfs polling, as a busybox guest would.
    const watcher = new WatchProcess(net, flags.includes('--ip-binary') ? [...flags, '--events', 'poll', '--poll-interval', '50'] : flags);
    try {
      await watcher.ready();
      await until('eth1 routes its client', () => /^100\.64\.0\.17 /.test(routesTo('eth1')));
      veth(net, 'eth2', '0a:b3:ec:81:00:11', peers, 'c2', '0a:b3:ec:01:00:11');
      await until('the collision is logged for eth1', () => watcher.lines(new RegExp(`eth1: error: ${LINE}`)).length > 0);
      await until('neither routes it', () => routesTo('eth1') === '' && routesTo('eth2') === '' && net.addrs('eth2').length === 1);
      // Said once while it lasts: not again at every listing (ten polling intervals) or event.
      await new Promise((r) => setTimeout(r, 500));
      expect(['eth1', 'eth2'].map((dev) => watcher.lines(new RegExp(`${dev}: error: ${LINE}`)).length)).toEqual([1, 1]);
      net.sh('ip link del eth2');
      await until('eth1 routes its client again', () => /^100\.64\.0\.17 /.test(routesTo('eth1')));
    } finally {
      expect(await watcher.stop()).toEqual({ code: 0, signal: null });
    }
  });

  test('two client links: neither holds the address', () => {
    const app = new Netns('co-app');
    const nets = new Netns('co-nets');
    try {
      veth(app, 'eth0', '0a:b3:ec:00:00:11', nets, 'p0', '0a:b3:ec:80:00:11');
      veth(app, 'eth9', '0a:b3:ec:01:00:11', nets, 'p9', '0a:b3:ec:81:00:11');
      const r = app.guestnet(['apply', ...flags]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('guestnet: eth0: error: client links eth0 and eth9 derive the same client address 100.64.0.17');
      expect([app.addrs('eth0'), app.addrs('eth9')]).toEqual([[], []]);
      expect(app.routes()).toEqual([]);
    } finally {
      app.delete();
      nets.delete();
    }
  });
});
