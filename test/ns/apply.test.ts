import { existsSync } from 'node:fs';
import { GUESTNET, Netns, veth } from '../helpers/netns';
import { BACKENDS } from './backends';

// The agent's main job, read back from the kernel: an app VM's client end
// and the netvm's provider end, joined by a veth pair as the host's bridge would.

const CLIENT_MAC = '0a:b3:ec:00:a5:46';
const PROVIDER_MAC = '0a:b3:ec:80:a5:46';
const METRIC = 1024 + 0xa546;

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});

describe.each(BACKENDS)('apply (%s backend)', (_name, flags) => {
  let app: Netns;
  let net: Netns;
  const apply = (ns: Netns, ...args: string[]) => ns.guestnet(['apply', ...flags, ...args]);

  beforeEach(() => {
    app = new Netns('app');
    net = new Netns('net');
    veth(app, 'eth0', CLIENT_MAC, net, 'eth1', PROVIDER_MAC);
  });
  afterEach(() => {
    app.delete();
    net.delete();
  });

  test('configures both ends as SPEC §3 says, and packets cross both ways', () => {
    expect(apply(app)).toMatchObject({ code: 0 });
    expect(apply(net)).toMatchObject({ code: 0 });
    expect(app.addrs('eth0')).toEqual(['100.64.165.70/32']);
    expect(app.routes()).toEqual([
      `169.254.0.1 dev eth0 metric ${METRIC}`,
      `default via 169.254.0.1 dev eth0 metric ${METRIC}`,
    ].sort());
    expect(net.addrs('eth1')).toEqual(['169.254.0.1/32']);
    expect(net.routes()).toEqual(['100.64.165.70 dev eth1 metric 0']);
    expect(net.sh('cat /proc/sys/net/ipv4/ip_forward').trim()).toBe('1');
    expect(app.ping('169.254.0.1')).toBe(true);
    expect(net.ping('100.64.165.70')).toBe(true);
  });

  test('a namespace with no route table yet (lo down): nine links, and a link already up, are configured', () => {
    const bare = new Netns('bare', { lo: 'down' });
    const peer = new Netns('peer');
    try {
      for (let i = 0; i < 9; i++) veth(bare, `c${i}`, `0a:b3:ec:00:01:0${i}`, peer, `p${i}`, `0a:b3:ec:80:01:0${i}`);
      expect(apply(bare)).toMatchObject({ code: 0, stderr: expect.not.stringContaining('error') });
      expect(bare.addrs('c8')).toEqual(['100.64.1.8/32']);
      expect(bare.routes()).toHaveLength(18);
    } finally {
      bare.delete();
      peer.delete();
    }
    const single = new Netns('single', { lo: 'down' });
    const other = new Netns('other');
    try {
      veth(single, 'c0', CLIENT_MAC, other, 'p0', PROVIDER_MAC);
      single.sh('ip link set c0 up');
      expect(single.guestnet(['status', ...flags])).toMatchObject({ stderr: expect.not.stringContaining('error') });
      expect(apply(single)).toMatchObject({ code: 0 });
      expect(single.addrs('c0')).toEqual(['100.64.165.70/32']);
    } finally {
      single.delete();
      other.delete();
    }
  });

  test('a second run plans nothing and reports no error', () => {
    expect(apply(app).code).toBe(0);
    const before = [app.addrs('eth0'), app.routes()];
    const second = apply(app, '--json');
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ steps: [], interfaces: [{ ifname: 'eth0', ok: true }] });
    expect(second.stderr).not.toMatch(/error/);
    expect([app.addrs('eth0'), app.routes()]).toEqual(before);
    const status = JSON.parse(app.guestnet(['status', 'eth0', '--json', ...flags]).stdout);
    expect(status).toMatchObject({ interfaces: [{ ifname: 'eth0', kind: 'client', drifted: false }], uplink: { drifted: false } });
  });

  test('--dry-run prints the plan and changes nothing', () => {
    const r = apply(app, '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ip addr replace 100.64.165.70/32 dev eth0');
    expect(r.stdout).toContain(`ip route replace default via 169.254.0.1 dev eth0 metric ${METRIC}`);
    expect(app.addrs('eth0')).toEqual([]);
    expect(app.routes()).toEqual([]);
  });

  test('stale owned state goes; hardware and foreign state stay', () => {
    veth(app, 'hw0', '52:54:00:12:34:56', app, 'hw1', '52:54:00:12:34:57');
    app.sh(`ip addr add 100.64.9.9/32 dev hw0 && ip link set hw0 up
      ip addr add 192.168.77.7/24 dev eth0 && ip addr add 100.64.1.1/32 dev eth0 && ip link set eth0 up
      ip route add 169.254.0.1 dev eth0 && ip route add default via 169.254.0.1 dev eth0`);
    expect(apply(app).code).toBe(0);
    expect(app.addrs('eth0')).toEqual(['100.64.165.70/32', '192.168.77.7/24']);
    expect(app.addrs('hw0')).toEqual(['100.64.9.9/32']);
    expect(app.routes()).toEqual([
      `169.254.0.1 dev eth0 metric ${METRIC}`,
      `default via 169.254.0.1 dev eth0 metric ${METRIC}`,
    ].sort());
  });

  test('a client with two provider links gets both default routes; one goes, the other works', () => {
    const net2 = new Netns('net2');
    try {
      veth(app, 'eth2', '0a:b3:ec:00:a5:47', net2, 'eth1', '0a:b3:ec:80:a5:47');
      expect(apply(app)).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/File exists|error/) });
      expect(apply(net).code).toBe(0);
      expect(apply(net2).code).toBe(0);
      expect(app.routes()).toEqual(expect.arrayContaining([
        `default via 169.254.0.1 dev eth0 metric ${METRIC}`,
        `default via 169.254.0.1 dev eth2 metric ${METRIC + 1}`,
      ]));
      expect(app.ping('169.254.0.1')).toBe(true);
      app.sh('ip link del eth0');
      expect(app.routes()).toEqual([
        `169.254.0.1 dev eth2 metric ${METRIC + 1}`,
        `default via 169.254.0.1 dev eth2 metric ${METRIC + 1}`,
      ].sort());
      expect(app.ping('169.254.0.1')).toBe(true);
      expect(net2.ping('100.64.165.71')).toBe(true);
    } finally {
      net2.delete();
    }
  });

  test('concurrent runs all succeed and leave one correct state', async () => {
    veth(app, 'eth2', '0a:b3:ec:00:00:02', app, 'eth3', '0a:b3:ec:80:00:02');
    const runs = await Promise.all(
      [[], ['eth0'], ['eth2'], ['eth3'], [], ['eth0', 'eth3']].map((names) =>
        app.guestnetAsync(['apply', ...flags, ...names]),
      ),
    );
    for (const r of runs) expect(r).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/error/) });
    expect(app.addrs('eth0')).toEqual(['100.64.165.70/32']);
    expect(app.addrs('eth2')).toEqual(['100.64.0.2/32']);
    expect(app.addrs('eth3')).toEqual(['169.254.0.1/32']);
    expect(JSON.parse(apply(app, '--json').stdout).steps).toEqual([]);
  });

  const settings = (ns: Netns, ifname: string): string[] => [
    ns.group(ifname),
    ...['ipv4/conf/X/rp_filter', 'ipv6/conf/X/accept_ra', 'ipv6/conf/X/autoconf'].map((p) => ns.sysctl(`net/${p.replace('X', ifname)}`)),
  ];
  const HARDENED = ['26478', '1', '0', '0'];

  test('a provider link gets guestnet\'s group and sysctls before it comes up; a client link keeps its own', () => {
    app.sh(`ip link set dev eth0 group 5
      echo 2 > /proc/sys/net/ipv4/conf/eth0/rp_filter && echo 2 > /proc/sys/net/ipv6/conf/eth0/accept_ra`);
    expect(settings(net, 'eth1')).toEqual(['default', '0', '1', '1']);
    const plan = apply(net, '--dry-run').stdout.split('\n');
    expect(plan.slice(0, 5)).toEqual([
      'sysctl -w net/ipv4/conf/eth1/rp_filter=1',
      'sysctl -w net/ipv6/conf/eth1/accept_ra=0',
      'sysctl -w net/ipv6/conf/eth1/autoconf=0',
      'ip link set dev eth1 group 26478',
      'ip link set dev eth1 up',
    ]);
    expect(apply(net).code).toBe(0);
    expect(apply(app).code).toBe(0);
    expect(settings(net, 'eth1')).toEqual(HARDENED);
    expect(settings(app, 'eth0')).toEqual(['5', '2', '2', '1']);
    expect(JSON.parse(apply(net, '--json').stdout).steps).toEqual([]);
    expect(app.ping('169.254.0.1')).toBe(true);
  });

  test.each([
    ['ip link set dev eth1 group 0'],
    ['echo 2 > /proc/sys/net/ipv4/conf/eth1/rp_filter'],
    ['echo 1 > /proc/sys/net/ipv6/conf/eth1/accept_ra'],
    ['echo 1 > /proc/sys/net/ipv6/conf/eth1/autoconf'],
  ])('changed by hand (%s): status says DRIFTED, apply puts it back', (change) => {
    expect(apply(net).code).toBe(0);
    net.sh(change);
    const status = net.guestnet(['status', 'eth1', ...flags]);
    expect(status.stdout).toMatch(/^eth1 \S+ provider DRIFTED$/m);
    expect(status.stdout).toContain('            group 26478 rp_filter=1 accept_ra=0 autoconf=0\n'); // expected
    expect(apply(net).code).toBe(0);
    expect(settings(net, 'eth1')).toEqual(HARDENED);
    expect(JSON.parse(net.guestnet(['status', 'eth1', '--json', ...flags]).stdout)).toMatchObject({ interfaces: [{ drifted: false }] });
  });

  test('a provider link without IPv6 (MTU below 1280) has only rp_filter to set; a second run is empty', () => {
    net.sh('ip link set dev eth1 mtu 1200');
    expect(apply(net)).toMatchObject({ code: 0, stderr: expect.not.stringContaining('error') });
    expect([net.group('eth1'), net.sysctl('net/ipv4/conf/eth1/rp_filter')]).toEqual(['26478', '1']);
    expect(JSON.parse(apply(net, '--json').stdout).steps).toEqual([]);
  });

  test('flush of a provider link puts its group back to default and leaves the sysctls', () => {
    expect(apply(net).code).toBe(0);
    expect(net.guestnet(['flush', 'eth1', ...flags]).code).toBe(0);
    expect(settings(net, 'eth1')).toEqual(['default', '1', '0', '0']);
  });

  test('flush removes exactly what guestnet owns', () => {
    app.sh('ip addr add 192.168.77.7/24 dev eth0');
    expect(apply(app).code).toBe(0);
    const r = app.guestnet(['flush', ...flags]);
    expect(r.code).toBe(0);
    expect(app.addrs('eth0')).toEqual(['192.168.77.7/24']);
    expect(app.routes()).toEqual([]);
  });
});
