import { deriveDesired } from '../../agent/convention/derive';
import type { SysctlValues } from '../../agent/convention/link-settings';
import { parseMac } from '../../agent/convention/mac';
import { DEFAULT_OPTIONS as OPTS, type Addr, type KernelState, type Link, type LinkState, type Route } from '../../agent/convention/types';
import { planApply, planFlush, type Target } from '../../agent/plan/planner';
import type { Step } from '../../agent/plan/steps';

// Table-driven: a current state in, the ordered steps out. No kernel.

const link = (name: string, mac: string, up = false, group = 0): Link => ({ name, ifindex: 2, mac, type: 1, up, group });
function target(name: string, mac: string, up = false, group = 0): Target {
  const m = parseMac(mac);
  const role = (m[3] & 0x80) === 0 ? 'client' : 'provider';
  return { link: link(name, mac, up, group), desired: deriveDesired(name, m, role, OPTS) };
}
function state(links: Record<string, { addrs?: Addr[]; routes?: Route[]; sysctls?: SysctlValues }>, forwarding = false): KernelState {
  const map = new Map<string, LinkState>(
    Object.entries(links).map(([k, v]) => [k, { addrs: v.addrs ?? [], routes: v.routes ?? [], ...(v.sysctls ? { sysctls: v.sysctls } : {}) }]),
  );
  return { links: map, forwarding };
}

const M = 1024 + 0xa546;
const G = 0x676e;
const SET: SysctlValues = { 'ipv4/rp_filter': '1', 'ipv6/accept_ra': '0', 'ipv6/autoconf': '0' };
const CLIENT = '0a:b3:ec:00:a5:46';
const PROVIDER = '0a:b3:ec:80:a5:46';
const clientAddr = { address: '100.64.165.70', prefix: 32 };
const gwRoute = { dst: '169.254.0.1/32', metric: M };
const defRoute = { dst: 'default', via: '169.254.0.1', metric: M };

test('fresh client: link up, address, host route, default route, in that order', () => {
  expect(planApply([target('eth0', CLIENT)], state({}), OPTS)).toEqual([
    { action: 'link-up', ifname: 'eth0' },
    { action: 'addr-add', ifname: 'eth0', addr: clientAddr },
    { action: 'route-add', ifname: 'eth0', route: gwRoute },
    { action: 'route-add', ifname: 'eth0', route: defRoute },
  ]);
});

test('already configured: nothing to do', () => {
  const s = state({ eth0: { addrs: [clientAddr], routes: [gwRoute, defRoute] } });
  expect(planApply([target('eth0', CLIENT, true)], s, OPTS)).toEqual([]);
});

test('fresh provider: its settings, link up, address, client route; forwarding is not a link step (it follows the firewall)', () => {
  const t2 = target('eth2', '0a:b3:ec:80:00:01');
  expect(planApply([target('eth1', PROVIDER, true, G), t2], state({}), OPTS)).toEqual([
    { action: 'addr-add', ifname: 'eth1', addr: { address: '169.254.0.1', prefix: 32 } },
    { action: 'route-add', ifname: 'eth1', route: { dst: '100.64.165.70/32', metric: 0 } },
    { action: 'link-set', ifname: 'eth2', group: G, sysctls: [] },
    { action: 'link-up', ifname: 'eth2' },
    { action: 'addr-add', ifname: 'eth2', addr: { address: '169.254.0.1', prefix: 32 } },
    { action: 'route-add', ifname: 'eth2', route: { dst: '100.64.0.1/32', metric: 0 } },
  ]);
});

test('stale owned address and reference-script routes are replaced; foreign state is kept', () => {
  const s = state({
    eth0: {
      addrs: [{ address: '100.64.1.1', prefix: 32 }, { address: '192.168.7.7', prefix: 24 }, clientAddr],
      routes: [
        { dst: '169.254.0.1/32', metric: 0 },
        { dst: 'default', via: '169.254.0.1', metric: 0 },
        { dst: '192.168.7.0/24', metric: 0 },
        { dst: 'default', via: '192.168.7.1', metric: 600 },
      ],
    },
  });
  expect(planApply([target('eth0', CLIENT, true)], s, OPTS)).toEqual([
    { action: 'route-del', ifname: 'eth0', route: { dst: '169.254.0.1/32', metric: 0 } },
    { action: 'route-del', ifname: 'eth0', route: { dst: 'default', via: '169.254.0.1', metric: 0 } },
    { action: 'addr-del', ifname: 'eth0', addr: { address: '100.64.1.1', prefix: 32 } },
    { action: 'route-add', ifname: 'eth0', route: gwRoute },
    { action: 'route-add', ifname: 'eth0', route: defRoute },
  ]);
});

test('a MAC that turned from provider into client: the gateway address and client route go', () => {
  const s = state({
    eth0: { addrs: [{ address: '169.254.0.1', prefix: 32 }], routes: [{ dst: '100.64.165.70/32', metric: 0 }] },
  });
  const steps = planApply([target('eth0', CLIENT, true)], s, OPTS);
  expect(steps.slice(0, 3)).toEqual([
    { action: 'route-del', ifname: 'eth0', route: { dst: '100.64.165.70/32', metric: 0 } },
    { action: 'addr-add', ifname: 'eth0', addr: clientAddr },
    { action: 'addr-del', ifname: 'eth0', addr: { address: '169.254.0.1', prefix: 32 } },
  ]);
});

test('a prefix change adds the new address before the old one goes, so the routes survive', () => {
  const s = state({ eth0: { addrs: [clientAddr], routes: [gwRoute, defRoute] } });
  const wide = { ...OPTS, clientPrefix: 16 };
  const t = { link: link('eth0', CLIENT, true), desired: deriveDesired('eth0', parseMac(CLIENT), 'client', wide) };
  expect(planApply([t], s, wide)).toEqual([
    { action: 'addr-add', ifname: 'eth0', addr: { ...clientAddr, prefix: 16 } },
    { action: 'addr-del', ifname: 'eth0', addr: clientAddr },
  ]);
});

test('a gateway change removes the marked routes of the old gateway, and only those', () => {
  const old = { ...gwRoute, proto: 179 };
  const oldDefault = { ...defRoute, proto: 179 };
  const scripted = { dst: 'default', via: '169.254.0.1', metric: 0, proto: 3 };
  const s = state({ eth0: { addrs: [clientAddr], routes: [old, oldDefault, scripted] } });
  const moved = { ...OPTS, gateway: '198.51.100.1' };
  const t = { link: link('eth0', CLIENT, true), desired: deriveDesired('eth0', parseMac(CLIENT), 'client', moved) };
  expect(planApply([t], s, moved)).toEqual([
    { action: 'route-del', ifname: 'eth0', route: old },
    { action: 'route-del', ifname: 'eth0', route: oldDefault },
    { action: 'route-add', ifname: 'eth0', route: { dst: '198.51.100.1/32', metric: M } },
    { action: 'route-add', ifname: 'eth0', route: { dst: 'default', via: '198.51.100.1', metric: M } },
  ]);
});

test('two provider links in one client: two default routes with distinct metrics', () => {
  const steps = planApply([target('eth0', CLIENT), target('eth1', '0a:b3:ec:00:a5:47')], state({}), OPTS);
  const defaults = steps.flatMap((s) => (s.action === 'route-add' && s.route.dst === 'default' ? [s] : []));
  expect(defaults.map((s) => [s.ifname, s.route.metric])).toEqual([['eth0', M], ['eth1', M + 1]]);
});

test('flush removes owned routes, then owned addresses, and keeps the rest', () => {
  const s = state({
    eth0: {
      addrs: [clientAddr, { address: '192.168.7.7', prefix: 24 }],
      routes: [gwRoute, defRoute, { dst: '192.168.7.0/24', metric: 0 }],
    },
  });
  expect(planFlush([link('eth0', CLIENT)], s, OPTS)).toEqual([
    { action: 'route-del', ifname: 'eth0', route: gwRoute },
    { action: 'route-del', ifname: 'eth0', route: defRoute },
    { action: 'addr-del', ifname: 'eth0', addr: clientAddr },
  ]);
});

describe('provider link settings (group, sysctls)', () => {
  const gwAddr = { address: '169.254.0.1', prefix: 32 };
  const clientRoute = { dst: '100.64.165.70/32', metric: 0 };
  const done = { addrs: [gwAddr], routes: [clientRoute] };
  test.each<[string, number, SysctlValues | undefined, Omit<Extract<Step, { action: 'link-set' }>, 'action' | 'ifname'> | undefined]>([
    ['all as wanted: nothing to do', G, SET, undefined],
    ['group reset by hand', 0, SET, { group: G, sysctls: [] }],
    ['another group', 7, SET, { group: G, sysctls: [] }],
    ['rp_filter loose', G, { ...SET, 'ipv4/rp_filter': '2' }, { sysctls: [{ sysctl: 'ipv4/rp_filter', value: '1' }] }],
    ['accept_ra on, autoconf on', G, { ...SET, 'ipv6/accept_ra': '1', 'ipv6/autoconf': '1' }, {
      sysctls: [{ sysctl: 'ipv6/accept_ra', value: '0' }, { sysctl: 'ipv6/autoconf', value: '0' }],
    }],
    ['no IPv6 on the link: nothing to set there', G, { 'ipv4/rp_filter': '1' }, undefined],
    ['fresh link: everything', 0, { 'ipv4/rp_filter': '0', 'ipv6/accept_ra': '1', 'ipv6/autoconf': '1' }, {
      group: G,
      sysctls: [{ sysctl: 'ipv4/rp_filter', value: '1' }, { sysctl: 'ipv6/accept_ra', value: '0' }, { sysctl: 'ipv6/autoconf', value: '0' }],
    }],
  ])('%s', (_, group, sysctls, wanted) => {
    const steps = planApply([target('p0', PROVIDER, true, group)], state({ p0: { ...done, sysctls } }, true), OPTS);
    expect(steps).toEqual(wanted ? [{ action: 'link-set', ifname: 'p0', ...wanted }] : []);
  });

  test('settings go before link-up', () => {
    const steps = planApply([target('p0', PROVIDER, false)], state({ p0: { sysctls: SET } }, true), OPTS);
    expect(steps.slice(0, 2).map((s) => s.action)).toEqual(['link-set', 'link-up']);
  });

  test('client links: group and sysctls are left as they are', () => {
    const s = state({ eth0: { addrs: [clientAddr], routes: [gwRoute, defRoute], sysctls: { 'ipv4/rp_filter': '0', 'ipv6/accept_ra': '1' } } });
    expect(planApply([target('eth0', CLIENT, true, 5)], s, OPTS)).toEqual([]);
  });

  test('flush puts guestnet\'s group back to 0 (sysctls stay); another group is not guestnet\'s', () => {
    const s = state({ p0: done, p1: done });
    expect(planFlush([link('p0', PROVIDER, true, G), link('p1', PROVIDER, true, 7)], s, OPTS)).toEqual([
      { action: 'route-del', ifname: 'p0', route: clientRoute },
      { action: 'addr-del', ifname: 'p0', addr: gwAddr },
      { action: 'link-set', ifname: 'p0', group: 0, sysctls: [] },
      { action: 'route-del', ifname: 'p1', route: clientRoute },
      { action: 'addr-del', ifname: 'p1', addr: gwAddr },
    ]);
  });
});
