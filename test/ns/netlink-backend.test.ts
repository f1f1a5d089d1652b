// The netlink backend against a real kernel, inside a throwaway network
// namespace. bun:ffi exists only under bun, so each run spawns the driver
// (test/ns/netlink-driver.ts) compiled with `bun build --compile`, the way
// guestnet ships, under `ip netns exec`; the kernel state is then read back
// with `ip -j`, independently of the backend.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { KernelState, LinkState, Route } from '../../agent/convention/types';
import type { Outcome, Step } from '../../agent/plan/steps';

const NS = `gn-nl-${process.pid}`;
const ROOT = resolve(__dirname, '../..');
const BUN = join(ROOT, 'node_modules/.bin/bun');
const run = promisify(execFile);
const canRun = process.getuid?.() === 0 && process.platform === 'linux';

let dir = '';
let driver = '';

function ip(...args: string[]): string {
  return execFileSync('ip', ['-n', NS, ...args], { encoding: 'utf8' });
}

function ipJson<T>(...args: string[]): T {
  return JSON.parse(ip('-j', ...args)) as T;
}

interface Result {
  outcomes: Outcome[];
  state: { links: Record<string, LinkState>; forwarding: KernelState['forwarding'] };
}

async function apply(steps: Step[], ...names: string[]): Promise<Result> {
  const { stdout } = await run('ip', ['netns', 'exec', NS, driver, JSON.stringify(steps), ...names]);
  return JSON.parse(stdout) as Result;
}

/** readState of one link, with `expected` routes for it when given. */
async function readLink(name: string, expected?: Route[]): Promise<LinkState> {
  const env = { ...process.env, ...(expected ? { GN_EXPECTED: JSON.stringify({ [name]: expected }) } : {}) };
  const { stdout } = await run('ip', ['netns', 'exec', NS, driver, '[]', name], { env });
  return (JSON.parse(stdout) as Result).state.links[name];
}

const errors = (r: Result): (string | undefined)[] => r.outcomes.map((o) => o.error);

interface IpAddr { ifname: string; addr_info: { family: string; local: string; prefixlen: number }[] }
interface IpRoute { type: string; dst: string; gateway?: string; protocol: string; scope?: string; metric?: number }

const inet = (dev: string): string[] =>
  ipJson<IpAddr[]>('addr', 'show', 'dev', dev)[0].addr_info
    .filter((a) => a.family === 'inet')
    .map((a) => `${a.local}/${a.prefixlen}`);

// -d makes `ip` print the type and protocol it omits by default.
const routes = (dev: string): IpRoute[] => ipJson<IpRoute[]>('-d', '-4', 'route', 'show', 'table', 'main', 'dev', dev);

const CLIENT: Step[] = [
  { action: 'link-up', ifname: 'c0' },
  { action: 'addr-add', ifname: 'c0', addr: { address: '100.64.165.70', prefix: 32 } },
  { action: 'route-add', ifname: 'c0', route: { dst: '169.254.0.1/32', metric: 0 } },
  { action: 'route-add', ifname: 'c0', route: { dst: 'default', via: '169.254.0.1', metric: 0 } },
];

const PROVIDER: Step[] = [
  { action: 'link-up', ifname: 'p0' },
  { action: 'addr-add', ifname: 'p0', addr: { address: '169.254.0.1', prefix: 32 } },
  { action: 'route-add', ifname: 'p0', route: { dst: '100.64.165.70/32', metric: 0 } },
  { action: 'forwarding-on' },
];

(canRun ? describe : describe.skip)('netlink backend in a network namespace', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gn-nl-'));
    driver = join(dir, 'driver');
    execFileSync(BUN, ['build', '--compile', join(__dirname, 'netlink-driver.ts'), '--outfile', driver], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    execFileSync('ip', ['netns', 'add', NS]);
    for (const [a, b] of [['c0', 'c0peer'], ['p0', 'p0peer'], ['e0', 'e0peer']]) {
      ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
      ip('link', 'set', b, 'up');
    }
  }, 60_000);

  afterAll(() => {
    try {
      execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    } catch {
      // beforeAll failed before creating it
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('configures a client interface as `ip` would', async () => {
    const result = await apply(CLIENT, 'c0');
    expect(errors(result)).toEqual([undefined, undefined, undefined, undefined]);
    expect(ipJson<{ flags: string[] }[]>('link', 'show', 'dev', 'c0')[0].flags).toContain('UP');
    expect(inet('c0')).toEqual(['100.64.165.70/32']);
    expect(routes('c0')).toEqual([
      expect.objectContaining({ type: 'unicast', dst: 'default', gateway: '169.254.0.1', protocol: '179', scope: 'global' }),
      expect.objectContaining({ type: 'unicast', dst: '169.254.0.1', protocol: '179', scope: 'link' }),
    ]);
    // readState reports what `ip` and /proc/sys see (the sysctls from the link's RTM_NEWLINK).
    const sysctl = (path: string): string => execFileSync('ip', ['netns', 'exec', NS, 'cat', `/proc/sys/net/${path}`], { encoding: 'utf8' }).trim();
    expect(result.state.links.c0).toEqual({
      addrs: [{ address: '100.64.165.70', prefix: 32, proto: 179 }], // IFA_PROTO: this kernel is >= 6.1
      routes: [{ dst: 'default', via: '169.254.0.1', metric: 0, proto: 179 }, { dst: '169.254.0.1/32', metric: 0, proto: 179 }],
      sysctls: {
        'ipv4/rp_filter': sysctl('ipv4/conf/c0/rp_filter'),
        'ipv6/accept_ra': sysctl('ipv6/conf/c0/accept_ra'),
        'ipv6/autoconf': sysctl('ipv6/conf/c0/autoconf'),
      },
    });
  });

  test('leaves exactly the state the equivalent `ip` commands leave', async () => {
    // Metric 50: `route replace` matches on dst and metric, not on the device,
    // so metric 0 here would take over c0's routes.
    const snapshot = (): unknown => [ipJson<IpAddr[]>('addr', 'show', 'dev', 'e0')[0].addr_info, routes('e0')];
    ip('link', 'set', 'dev', 'e0', 'up');
    ip('addr', 'replace', '100.64.1.2/32', 'dev', 'e0');
    ip('route', 'replace', '169.254.0.1/32', 'dev', 'e0', 'metric', '50', 'proto', '179');
    ip('route', 'replace', 'default', 'via', '169.254.0.1', 'dev', 'e0', 'metric', '50', 'proto', '179');
    const byIp = snapshot();
    ip('link', 'set', 'dev', 'e0', 'down'); // IPv4 drops the routes through a downed link
    ip('addr', 'flush', 'dev', 'e0');
    expect(routes('e0')).toEqual([]);
    const steps: Step[] = [
      { action: 'link-up', ifname: 'e0' },
      { action: 'addr-add', ifname: 'e0', addr: { address: '100.64.1.2', prefix: 32 } },
      { action: 'route-add', ifname: 'e0', route: { dst: '169.254.0.1/32', metric: 50 } },
      { action: 'route-add', ifname: 'e0', route: { dst: 'default', via: '169.254.0.1', metric: 50 } },
    ];
    expect(errors(await apply(steps))).toEqual([undefined, undefined, undefined, undefined]);
    expect(snapshot()).toEqual(byIp);
  });

  test('is idempotent: a second run reports no error and changes nothing', async () => {
    const before = [inet('c0'), routes('c0')];
    expect(errors(await apply(CLIENT, 'c0'))).toEqual([undefined, undefined, undefined, undefined]);
    expect([inet('c0'), routes('c0')]).toEqual(before);
  });

  test('configures a provider interface and turns forwarding on', async () => {
    ip('link', 'set', 'p0', 'down');
    const result = await apply(PROVIDER, 'p0');
    expect(errors(result)).toEqual([undefined, undefined, undefined, undefined]);
    expect(inet('p0')).toEqual(['169.254.0.1/32']);
    expect(routes('p0')).toEqual([expect.objectContaining({ dst: '100.64.165.70', scope: 'link' })]);
    expect(execFileSync('ip', ['netns', 'exec', NS, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' })).toBe('1\n');
    expect(result.state.forwarding).toBe(true);
  });

  test('concurrent runs converge without errors', async () => {
    const second: Step[] = [{ action: 'route-add', ifname: 'c0', route: { dst: 'default', via: '169.254.0.1', metric: 1 } }];
    const results = await Promise.all(Array.from({ length: 4 }, () => apply([...CLIENT, ...second], 'c0')));
    expect(results.flatMap(errors).filter((e) => e !== undefined)).toEqual([]);
    expect(routes('c0').map((r) => [r.dst, r.metric ?? 0])).toEqual([['default', 0], ['default', 1], ['169.254.0.1', 0]]);
  });

  test('deletes, and deleting what is already gone is no error', async () => {
    const del: Step[] = [
      { action: 'route-del', ifname: 'c0', route: { dst: 'default', via: '169.254.0.1', metric: 1 } },
      { action: 'route-del', ifname: 'c0', route: { dst: 'default', via: '169.254.0.1', metric: 0 } },
      { action: 'route-del', ifname: 'c0', route: { dst: '169.254.0.1/32', metric: 0 } },
      { action: 'addr-del', ifname: 'c0', addr: { address: '100.64.165.70', prefix: 32 } },
    ];
    for (let i = 0; i < 2; i++) {
      expect(errors(await apply(del, 'c0'))).toEqual([undefined, undefined, undefined, undefined]);
    }
    expect(inet('c0')).toEqual([]);
    expect(routes('c0')).toEqual([]);
  });

  test('reports a missing interface and a kernel refusal, and still does the rest', async () => {
    const steps: Step[] = [
      { action: 'link-up', ifname: 'gone0' },
      { action: 'route-add', ifname: 'p0', route: { dst: '100.64.0.0/16', via: '100.64.200.1', metric: 7 } },
      { action: 'route-add', ifname: 'p0', route: { dst: '100.64.1.2/32', metric: 0 } },
    ];
    const result = await apply(steps);
    expect(errors(result)).toEqual([
      'no such interface (it vanished)',
      expect.stringMatching(/^network is unreachable/),
      undefined,
    ]);
    expect(routes('p0').map((r) => r.dst)).toContain('100.64.1.2');
  });

  describe('expected routes, confirmed by `ip route get fibmatch` look-ups', () => {
    const WANTED: Route[] = [{ dst: '169.254.0.1/32', metric: 7 }, { dst: 'default', via: '169.254.0.1', metric: 7 }];
    const found = (r: Route) => ({ ...r, proto: 3 }); // `ip route add` marks routes proto boot

    beforeAll(() => {
      ip('link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x0peer');
      ip('link', 'set', 'x0peer', 'up');
      ip('link', 'set', 'x0', 'up');
      ip('route', 'add', '169.254.0.1/32', 'dev', 'x0', 'metric', '7');
      ip('route', 'add', 'default', 'via', '169.254.0.1', 'dev', 'x0', 'metric', '7');
      ip('route', 'add', '100.64.9.9/32', 'dev', 'x0');
    });

    test('when every one is there, the link holds just those (a route elsewhere goes unseen: no dump)', async () => {
      expect((await readLink('x0', WANTED)).routes).toEqual(WANTED.map(found));
      expect((await readLink('x0')).routes).toHaveLength(3);
    });

    test('a look-up that finds anything else (here a lower metric) makes it read all of the link', async () => {
      ip('route', 'add', 'default', 'via', '169.254.0.1', 'dev', 'x0', 'metric', '3');
      const { routes: all } = await readLink('x0', WANTED);
      expect(all).toEqual(expect.arrayContaining([...WANTED.map(found), found({ dst: 'default', via: '169.254.0.1', metric: 3 })]));
      expect(all).toHaveLength(4);
    });

    test('a missing one makes it read all of the link too', async () => {
      const { routes: all } = await readLink('x0', [{ dst: '100.64.9.8/32', metric: 0 }]);
      expect(all).toHaveLength(4);
    });
  });
});
