import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../agent/apply/backend';
import { report, reportOk } from '../../agent/commands/report';
import { DEFAULT_OPTIONS, type LinkState } from '../../agent/convention/types';
import { desiredTable } from '../../agent/commands/uplink';
import { held } from '../helpers/nft-held';
import { listLinks } from '../../agent/discover/sysfs';
import { createLogger } from '../../agent/log';
import { runChecks, type CheckInput } from '../../agent/report/checks';
import { formatReport } from '../../agent/report/format';
import { readLinkStats } from '../../agent/report/link-stats';
import { probeMachine, type MachineProbe } from '../../agent/report/machine';
import type { ReportInterface } from '../../agent/report/types';

// The report on the sysfs fixture with a fake backend and a fake
// systeminformation: no root, no tools.

const SYSFS = join(__dirname, '../data/sys/class/net');

const FULL: MachineProbe = {
  system: async () => ({ virtual: true, virtualHost: 'KVM' }),
  osInfo: async () => ({ distro: 'Spectrum', release: '1', kernel: '6.1.0', arch: 'x64' }),
  cpu: async () => ({ manufacturer: 'AMD', brand: 'EPYC', cores: 2, flags: 'fpu sse hypervisor' }),
  mem: async () => ({ total: 512 * 2 ** 20, available: 256 * 2 ** 20 }),
};

/** What a busybox guest gives: no lscpu or dmesg, and a probe that never answers. */
const BUSYBOX: MachineProbe = {
  system: async () => ({ virtual: false }),
  osInfo: () => new Promise(() => undefined),
  cpu: async () => ({ manufacturer: '', brand: '', cores: 1, flags: '' }),
  mem: () => Promise.reject(new Error('no /proc/meminfo')),
};

test('probeMachine takes what systeminformation says', async () => {
  expect(await probeMachine(FULL, 1000)).toEqual({
    virtual: true,
    hypervisor: 'KVM',
    os: 'Spectrum 1',
    kernel: '6.1.0',
    arch: 'x64',
    cpu: { model: 'AMD EPYC', count: 2 },
    memory: { totalBytes: 512 * 2 ** 20, availableBytes: 256 * 2 ** 20 },
  });
});

test('a probe that fails, hangs or finds no tool reads "unknown", in bounded time', async () => {
  const started = Date.now();
  const m = await probeMachine(BUSYBOX, 50);
  expect(Date.now() - started).toBeLessThan(5000); // generous: only "it did not hang"
  expect(m).toEqual({
    virtual: 'unknown', // virtual=false without CPU flags is no answer
    hypervisor: 'unknown',
    os: 'unknown',
    kernel: 'unknown',
    arch: 'unknown',
    cpu: { model: 'unknown', count: 1 },
    memory: { totalBytes: 'unknown', availableBytes: 'unknown' },
  });
});

test('CPU flags without "hypervisor" mean bare metal', async () => {
  const m = await probeMachine({ ...FULL, system: async () => ({ virtual: false }), cpu: async () => ({ ...(await FULL.cpu()), flags: 'fpu sse' }) }, 1000);
  expect([m.virtual, m.hypervisor]).toEqual([false, 'none']);
});

test("without lscpu, the CPU flags come from /proc/cpuinfo's flags line", async () => {
  const cpuinfo = 'processor\t: 0\nflags\t\t: fpu sse hypervisor\nbugs\t\t:\n';
  const m = await probeMachine({ ...FULL, system: async () => ({ virtual: false }), cpu: async () => ({ ...(await FULL.cpu()), flags: '' }) }, 1000, cpuinfo);
  expect([m.virtual, m.hypervisor]).toEqual([true, 'unknown']);
});

test('readLinkStats reads operstate, mtu and counters; missing files read "unknown"', () => {
  const root = mkdtempSync(join(tmpdir(), 'gn-stats-'));
  try {
    mkdirSync(join(root, 'eth0/statistics'), { recursive: true });
    writeFileSync(join(root, 'eth0/operstate'), 'lowerlayerdown\n');
    writeFileSync(join(root, 'eth0/mtu'), '1500\n');
    writeFileSync(join(root, 'eth0/carrier'), '0\n');
    writeFileSync(join(root, 'eth0/statistics/rx_packets'), '7\n');
    writeFileSync(join(root, 'eth0/statistics/tx_dropped'), '3\n');
    expect(readLinkStats(root, 'eth0')).toEqual({
      operstate: 'lowerlayerdown',
      carrier: false,
      mtu: 1500,
      counters: { rxPackets: 7, txPackets: 'unknown', rxErrors: 'unknown', txErrors: 'unknown', rxDropped: 'unknown', txDropped: 3 },
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

const healthyClient: LinkState = {
  addrs: [{ address: '100.64.165.70', prefix: 32 }],
  routes: [
    { dst: '169.254.0.1/32', metric: 1024 + 0xa546 },
    { dst: 'default', via: '169.254.0.1', metric: 1024 + 0xa546 },
  ],
};

/** Holds `links` and the uplink table a provider should have. */
function fakeBackend(links: Map<string, LinkState>): Backend {
  return {
    name: 'fake',
    readState: async () => ({ links, forwarding: false }),
    readUplink: async () => held(desiredTable(listLinks(SYSFS), { derive: DEFAULT_OPTIONS, sysfs: SYSFS, log: createLogger({ format: 'human', verbosity: 0 }) })),
    apply: async () => [],
  };
}

async function fixtureReport(dnsStateDir = join(__dirname, '../data/no-such-dir')) {
  const log = createLogger({ format: 'human', verbosity: 0, write: () => undefined });
  const ctx = { derive: DEFAULT_OPTIONS, sysfs: SYSFS, log };
  const forwardingPath = join(__dirname, '../data/ip_forward') // 0;
  return report(fakeBackend(new Map([['eth0', healthyClient]])), ctx, { machine: () => probeMachine(FULL, 1000), forwardingPath, dnsStateDir });
}

test('report: sections, schema and checks on the fixture (a provider that is down, forwarding off)', async () => {
  const r = await fixtureReport();
  expect(Object.keys(r)).toEqual(['schema', 'guestnet', 'machine', 'interfaces', 'uplink', 'dns', 'checks']);
  expect(r.dns).toEqual({ running: false });
  expect(r.schema).toBe(2);
  expect(r.guestnet).toMatchObject({
    backend: 'fake', scheme: 'oui', gateway: '169.254.0.1', clientPrefix: 32, defaultRoute: true, masquerade: true, isolate: true,
    clientFlowLimit: 'auto', openPorts: [],
  });
  expect(r.interfaces.map((i) => [i.ifname, i.kind, i.operstate])).toEqual([
    ['lo', 'ignored', 'unknown'],
    ['eth0', 'client', 'unknown'],
    ['eth1', 'provider', 'unknown'],
    ['enp1s0', 'hardware', 'unknown'],
    ['wg0', 'ignored', 'unknown'],
  ]);
  expect(r.interfaces[1]).toMatchObject({ drifted: false, mtu: 'unknown' });
  expect(r.uplink).toMatchObject({ forwarding: false, table: { drifted: false } });
  // eth0, a client link with its address, is the provider eth1's way out (a VPN VM's shape).
  expect(r.checks.filter((c) => c.verdict !== 'ok')).toEqual([
    { id: 'provider-forwarding', verdict: 'problem', detail: 'provider link eth1 but net.ipv4.ip_forward is 0: clients reach only this VM' },
    { id: 'inter-guest-links-up', verdict: 'problem', detail: 'provider link eth1 is down' },
  ]);
  expect(reportOk(r)).toBe(false);
});

test('formatReport prints the sections in order with one verdict per check', async () => {
  const text = formatReport(await fixtureReport());
  const heads = text.split('\n').filter((l) => /^\S/.test(l));
  expect(heads).toEqual(['guestnet 0.1.0', 'machine', 'interfaces', 'uplink', 'dns', 'checks']);
  expect(text).toContain('dns\n  not running\n');
  expect(text).toContain('  virtual: yes (KVM)\n');
  expect(text).toContain('  eth0 0a:b3:ec:00:a5:46 client ok\n');
  expect(text).toContain('  ip_forward: off\n');
  expect(text).toContain('  provider-forwarding: problem: provider link eth1 but net.ipv4.ip_forward is 0: clients reach only this VM\n');
  expect(text.match(/^ {2}[a-z-]+: (ok|problem|hint)/gm)).toHaveLength(9);
});

test("the resolver's state file, while the process that wrote it runs, and not after", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gn-report-dns-'));
  try {
    const state = { pid: process.pid, listening: '169.254.0.1:53', upstreams: ['192.0.2.53'], source: '/etc/resolv.conf', user: 'nobody',
      lastFailure: { upstream: '192.0.2.53', what: 'no answer', at: '2026-01-01T00:00:00.000Z' } };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    const text = formatReport(await fixtureReport(dir));
    expect(text).toContain(`dns\n  listening on 169.254.0.1:53 (UDP and TCP) as nobody, pid ${process.pid}\n  upstreams: 192.0.2.53 (from /etc/resolv.conf)\n  last upstream failure: 192.0.2.53: no answer, 2026-01-01T00:00:00.000Z\n`);
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...state, pid: 2 ** 22 + 1 })); // above pid_max: no such process
    expect((await fixtureReport(dir)).dns).toEqual({ running: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The checks, one table row per problem they exist to find.

function iface(ifname: string, kind: ReportInterface['kind'], current: LinkState, extra: Partial<ReportInterface> = {}): ReportInterface {
  const counters = { rxPackets: 0, txPackets: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 };
  return { ifname, mac: '', kind, up: true, group: 0, current, operstate: 'up', carrier: true, mtu: 1500, counters, ...extra };
}

const client = (ifname: string, metric: number, withDefault = true): ReportInterface =>
  iface(ifname, 'client', { addrs: [], routes: withDefault ? [{ dst: 'default', via: '169.254.0.1', metric }] : [] }, {
    expected: { addr: { address: '100.64.0.1', prefix: 32 }, routes: [] },
  });
const provider = iface('eth9', 'provider', { addrs: [{ address: '169.254.0.1', prefix: 32 }], routes: [] }, {
  expected: { addr: { address: '169.254.0.1', prefix: 32 }, routes: [] },
});
const nic = (addrs: LinkState['addrs']): ReportInterface => iface('enp1s0', 'hardware', { addrs, routes: [] });

const NO_TABLE = { expected: null, present: false, legacy: false, drifted: false };
const TABLE = ['forward: ...'];

const cases: [string, Partial<CheckInput>, string, string][] = [
  ['client without a default route', { interfaces: [client('eth0', 1024, false)] }, 'client-default-route', 'problem: client link eth0 has no default route: this VM reaches nothing beyond its provider'],
  ['... unless --no-default-route', { interfaces: [client('eth0', 1024, false)], defaultRoute: false }, 'client-default-route', 'hint: eth0: no default route, as --no-default-route asks'],
  ['equal metrics', { interfaces: [client('eth0', 1024), client('eth1', 1024)] }, 'default-route-metrics', 'problem: default routes on eth0, eth1 share metric 1024: only one of them is used'],
  ['100.64 address on a hardware link', { interfaces: [nic([{ address: '100.64.1.2', prefix: 24 }])] }, 'unowned-addresses', 'problem: 100.64.1.2/24 on enp1s0 belongs to no link (hardware link, not inter-guest)'],
  ['100.64 address its MAC does not stand for', { interfaces: [{ ...client('eth0', 1024), current: { addrs: [{ address: '100.64.9.9', prefix: 32 }], routes: client('eth0', 1024).current.routes } }] }, 'unowned-addresses', 'problem: 100.64.9.9/32 on eth0 belongs to no link (its MAC stands for 100.64.0.1)'],
  ['two providers deriving one client address', { interfaces: [{ ...provider, collision: { address: '100.64.0.17', role: 'provider', ifnames: ['eth8', 'eth9'] } }, nic([{ address: '192.0.2.2', prefix: 24 }])] }, 'client-address-collisions', 'problem: provider links eth8 and eth9 derive the same client address 100.64.0.17 from their MACs: none gets a route to it while more than one is there'],
  ['guestnet\'s state on a hardware link', { interfaces: [nic([{ address: '169.254.0.1', prefix: 32 }])].map((i) => ({ ...i, current: { ...i.current, routes: [{ dst: '100.64.0.17/32', metric: 0, proto: 179 }] } })) }, 'misplaced-state', 'problem: gateway address 169.254.0.1/32 on hardware link enp1s0; route 100.64.0.17/32 marked as guestnet\'s on hardware link enp1s0: guestnet never puts these there (a link renamed while ip applied?); remove them'],
  ['provider without forwarding', { interfaces: [provider, nic([{ address: '192.0.2.2', prefix: 24 }])], uplink: { forwarding: false, table: NO_TABLE } }, 'provider-forwarding', 'problem: provider link eth9 but net.ipv4.ip_forward is 0: clients reach only this VM'],
  ['inter-guest link set down', { interfaces: [{ ...client('eth0', 1024), up: false, carrier: 'unknown' }] }, 'inter-guest-links-up', 'problem: client link eth0 is down'],
  ['inter-guest link without carrier', { interfaces: [{ ...client('eth0', 1024), carrier: false }] }, 'inter-guest-links-up', 'problem: client link eth0 has no carrier: the other end is down or gone'],
  ['provider without an addressed uplink', { interfaces: [provider, nic([])] }, 'provider-uplink-address', 'problem: no address on enp1s0: clients reach nothing beyond this VM'],
  ['provider with no other link', { interfaces: [provider] }, 'provider-uplink-address', 'problem: no link besides the provider links: clients reach nothing beyond this VM'],
  ['firewall table missing', { uplink: { forwarding: true, table: { ...NO_TABLE, expected: TABLE, drifted: true, drift: 'table inet guestnet is missing' } } }, 'uplink-table', 'problem: firewall: table inet guestnet is missing: run guestnet apply'],
  ['firewall table unreadable', { uplink: { forwarding: true, table: { ...NO_TABLE, error: 'nftables: Operation not permitted' } } }, 'uplink-table', 'problem: firewall table inet guestnet cannot be read: nftables: Operation not permitted'],
];

test.each(cases)('%s', (_name, input, id, verdict) => {
  const checks = runChecks({ interfaces: [], uplink: { forwarding: true, table: NO_TABLE }, defaultRoute: true, gateway: '169.254.0.1', ...input });
  expect(checks.filter((c) => c.verdict !== 'ok').map((c) => `${c.id} ${c.verdict}: ${c.detail}`)).toEqual([`${id} ${verdict}`]);
});

test('forwarding left off for want of the firewall: both checks say why', () => {
  const table = { ...NO_TABLE, expected: TABLE, drifted: true, error: 'nftables: the kernel has no nf_tables' };
  const checks = runChecks({ interfaces: [provider, nic([{ address: '192.0.2.2', prefix: 24 }])], uplink: { forwarding: false, table }, defaultRoute: true, gateway: '169.254.0.1' });
  expect(checks.filter((c) => c.verdict !== 'ok').map((c) => `${c.id}: ${c.detail}`)).toEqual([
    'provider-forwarding: provider link eth9 but net.ipv4.ip_forward is 0 (left off, fail closed: the firewall is not in place: nftables: the kernel has no nf_tables): clients reach only this VM',
    'uplink-table: firewall table inet guestnet cannot be read: nftables: the kernel has no nf_tables',
  ]);
});

test('a healthy client and a healthy provider pass every check', () => {
  const healthy = [client('eth0', 1024), provider, nic([{ address: '192.0.2.2', prefix: 24 }])];
  const table = { ...NO_TABLE, expected: TABLE, present: true };
  expect(runChecks({ interfaces: healthy, uplink: { forwarding: true, table }, defaultRoute: true, gateway: '169.254.0.1' }).map((c) => c.verdict)).toEqual(Array(9).fill('ok'));
});
