import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GUESTNET, Netns, veth, type Ran } from '../helpers/netns';

// `guestnet report` against real namespaces: a healthy client and provider
// pass every check; each check's problem is built for real and found; the
// report changes nothing; the JSON schema holds.

interface Check {
  id: string;
  verdict: string;
  detail?: string;
}

let app: Netns; // a client VM
let net: Netns; // its provider, with a hardware uplink into `wan`
let wan: Netns;

const CLIENT_METRIC = 1024 + 0x05;

beforeEach(() => {
  [app, net, wan] = [new Netns('rep-app'), new Netns('rep-net'), new Netns('rep-wan')];
  veth(app, 'eth0', '0a:b3:ec:00:00:05', net, 'eth0', '0a:b3:ec:80:00:05');
  veth(net, 'up0', '52:54:00:00:00:01', wan, 'wan0', '52:54:00:00:00:02');
  wan.sh('ip link set wan0 up; ip addr add 203.0.113.1/24 dev wan0; ip route add 100.64.0.0/16 via 203.0.113.2');
  net.sh('ip link set up0 up; ip addr add 203.0.113.2/24 dev up0; ip route add default via 203.0.113.1');
  for (const ns of [app, net]) expect(ns.guestnet(['apply', '-q'])).toMatchObject({ code: 0, stderr: '' });
});
afterEach(() => [app, net, wan].forEach((ns) => ns?.delete()));

function reportOf(ns: Netns, extra: string[] = []): { ran: Ran; checks: Check[]; json: Record<string, unknown> } {
  const ran = ns.guestnet(['report', '--json', ...extra]);
  const json = JSON.parse(ran.stdout) as Record<string, unknown>;
  return { ran, checks: json.checks as Check[], json };
}

const problems = (checks: Check[]) => checks.filter((c) => c.verdict !== 'ok').map((c) => `${c.id}: ${c.detail}`);

test.each(['netlink', 'ip'])('a healthy client and provider report every check ok, exit 0 (backend %s)', (backend) => {
  for (const ns of [app, net]) {
    const { ran, checks } = reportOf(ns, ['--backend', backend]);
    expect(problems(checks)).toEqual([]);
    expect(ran.code).toBe(0);
    expect(checks).toHaveLength(9);
  }
  expect(app.ping('203.0.113.1')).toBe(true); // "all ok" is true: the client reaches beyond its provider
});

test('the human report has the sections in order and a verdict per check', () => {
  const r = net.guestnet(['report']);
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n').filter((l) => /^\S/.test(l))).toEqual([expect.stringMatching(/^guestnet \d/), 'machine', 'interfaces', 'uplink', 'dns', 'checks']);
  expect(r.stdout).toMatch(/^ {2}eth0 0a:b3:ec:80:00:05 provider ok\n {4}expected: 169\.254\.0\.1\/32; 100\.64\.0\.5\/32 metric 0\n/m);
  // operstate follows a link coming up by up to a second; the carrier at once.
  expect(r.stdout).toMatch(/^ {4}operstate [a-z]+, carrier yes, mtu 1500; rx \d+ packets, 0 errors, 0 dropped; tx \d+ packets/m);
  expect(r.stdout).toContain('  ip_forward: on\n');
  expect(r.stdout.match(/^ {2}[a-z-]+: ok$/gm)).toHaveLength(9);
  expect(r.stdout).toContain('  firewall table inet guestnet ok\n');
});

test('client without a default route', () => {
  app.sh('ip route del default');
  const { ran, checks } = reportOf(app);
  expect(ran.code).toBe(1);
  expect(problems(checks)).toEqual(['client-default-route: client link eth0 has no default route: this VM reaches nothing beyond its provider']);
});

test('several default routes with equal metric', () => {
  veth(app, 'hw0', '52:54:00:00:00:03', app, 'hw0p', '52:54:00:00:00:04');
  app.sh(`ip link set hw0 up; ip link set hw0p up; ip addr add 198.51.100.2/24 dev hw0; ip route append default via 198.51.100.1 metric ${CLIENT_METRIC}`);
  const { ran, checks } = reportOf(app);
  expect(ran.code).toBe(1);
  expect(problems(checks)).toEqual([`default-route-metrics: default routes on eth0, hw0 share metric ${CLIENT_METRIC}: only one of them is used`]);
});

test('an address in 100.64.0.0/16 that no link owns; the report leaves it there', () => {
  app.sh('ip addr add 100.64.7.7/32 dev eth0');
  net.sh('ip addr add 100.64.8.8/24 dev up0');
  const before = [app.addrs('eth0'), app.routes()];
  const { ran, checks } = reportOf(app);
  expect(ran.code).toBe(1);
  expect(problems(checks)).toEqual(['unowned-addresses: 100.64.7.7/32 on eth0 belongs to no link (its MAC stands for 100.64.0.5)']);
  expect([app.addrs('eth0'), app.routes()]).toEqual(before);
  expect(problems(reportOf(net).checks)).toEqual(['unowned-addresses: 100.64.8.8/24 on up0 belongs to no link (hardware link, not inter-guest)']);
});

test('provider without forwarding; the report does not turn it on', () => {
  net.sh('echo 0 > /proc/sys/net/ipv4/ip_forward');
  const { ran, checks, json } = reportOf(net);
  expect(ran.code).toBe(1);
  expect(json.uplink).toMatchObject({ forwarding: false, table: { drifted: false } });
  expect(problems(checks)).toEqual(['provider-forwarding: provider link eth0 but net.ipv4.ip_forward is 0: clients reach only this VM']);
  expect(net.sh('cat /proc/sys/net/ipv4/ip_forward').trim()).toBe('0');
});

test('inter-guest link down: the host side went away', () => {
  net.sh('ip link set eth0 down');
  const { ran, checks } = reportOf(app);
  expect(ran.code).toBe(1);
  expect(problems(checks)).toEqual(['inter-guest-links-up: client link eth0 has no carrier: the other end is down or gone']);
  expect(problems(reportOf(net).checks)).toEqual(['inter-guest-links-up: provider link eth0 is down']);
});

test('a provider whose hardware link has no address', () => {
  net.sh('ip addr flush dev up0');
  const { ran, checks } = reportOf(net);
  expect(ran.code).toBe(1);
  expect(problems(checks)).toEqual(['provider-uplink-address: no address on up0: clients reach nothing beyond this VM']);
  expect(app.ping('203.0.113.1')).toBe(false); // the problem is real
});

test("the provider's uplink table removed by someone else", () => {
  net.sh('nft delete table inet guestnet');
  const { ran, checks, json } = reportOf(net);
  expect(ran.code).toBe(1);
  expect(json.uplink).toMatchObject({ table: { present: false, drifted: true } });
  expect(problems(checks)).toEqual(['uplink-table: firewall: table inet guestnet is missing: run guestnet apply']);
});

test('the JSON schema: every section and its fields', () => {
  const { json } = reportOf(net);
  const keys = (o: unknown) => Object.keys(o as object).sort();
  expect(keys(json)).toEqual(['checks', 'dns', 'guestnet', 'interfaces', 'machine', 'schema', 'uplink']);
  expect(json.schema).toBe(2);
  expect(keys(json.guestnet)).toEqual(['backend', 'clientFlowLimit', 'clientPrefix', 'defaultRoute', 'gateway', 'isolate', 'masquerade', 'openPorts', 'scheme', 'version']);
  expect(keys(json.uplink)).toEqual(['forwarding', 'table']);
  expect(keys(json.dns)).toContain('running');
  expect(keys((json.uplink as { table: object }).table)).toEqual(['drifted', 'expected', 'legacy', 'present']);
  expect(keys(json.machine)).toEqual(['arch', 'cpu', 'hypervisor', 'kernel', 'memory', 'os', 'virtual']);
  const m = json.machine as { cpu: object; memory: object };
  expect([keys(m.cpu), keys(m.memory)]).toEqual([['count', 'model'], ['availableBytes', 'totalBytes']]);
  const ifs = json.interfaces as Record<string, unknown>[];
  const provider = ifs.find((i) => i.ifname === 'eth0');
  expect(keys(provider)).toEqual(['carrier', 'counters', 'current', 'drifted', 'expected', 'group', 'ifname', 'kind', 'mac', 'mtu', 'operstate', 'up']);
  expect(keys(provider?.counters)).toEqual(['rxDropped', 'rxErrors', 'rxPackets', 'txDropped', 'txErrors', 'txPackets']);
  expect(keys(ifs.find((i) => i.ifname === 'lo'))).toEqual(['carrier', 'counters', 'current', 'group', 'ifname', 'kind', 'mac', 'mtu', 'operstate', 'up']);
  expect((json.checks as Check[]).map((c) => c.id)).toEqual([
    'client-default-route',
    'default-route-metrics',
    'unowned-addresses',
    'client-address-collisions',
    'misplaced-state',
    'provider-forwarding',
    'inter-guest-links-up',
    'provider-uplink-address',
    'uplink-table',
  ]);
});

test('no tools on PATH (a bare guest): the machine fields read "unknown", the report still comes out', () => {
  const r = app.run('env', ['PATH=/nonexistent', GUESTNET, 'report', '--json']);
  expect(r.code).toBe(0);
  const json = JSON.parse(r.stdout) as { machine: { os: string; virtual: unknown }; checks: Check[] };
  expect(json.machine.os).toBe('unknown'); // /etc/os-release is read through cat
  expect(problems(json.checks)).toEqual([]);
  expect(r.stderr).toBe(''); // the missing tools' complaints do not reach the console
});

/**
 * A root holding only busybox, glibc and guestnet, as in a busybox guest
 * (`tools: false`: not even a shell), and no /dev. guestnet runs chrooted in it inside `ns`,
 * with this namespace's /proc and /sys mounted in a mount namespace of its own.
 */
function reportInBareRoot(ns: Netns, tools: boolean): Ran {
  const root = mkdtempSync(join(tmpdir(), 'gn-root-'));
  try {
    const libs = execFileSync('ldd', [GUESTNET], { encoding: 'utf8' }).match(/\/\S+/g) ?? [];
    for (const lib of libs) {
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(root, lib));
    }
    for (const dir of ['bin', 'proc', 'sys', 'etc', 'opt']) mkdirSync(join(root, dir));
    writeFileSync(join(root, 'opt/guestnet'), ''); // the executable is bind-mounted over it
    writeFileSync(join(root, 'etc/os-release'), 'NAME="bare root"\n');
    if (tools) {
      copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(root, 'bin/busybox'));
      for (const applet of ['sh', 'cat', 'ls', 'grep', 'dmesg', 'hostname', 'date']) symlinkSync('busybox', join(root, 'bin', applet));
    }
    const setup = `mount -t proc proc ${root}/proc; mount -t sysfs sys ${root}/sys; mount --bind ${GUESTNET} ${root}/opt/guestnet`;
    return ns.run('unshare', ['-m', 'sh', '-ec', `${setup}; c=$(command -v chroot); PATH=/bin exec "$c" ${root} /opt/guestnet report --json`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test.each([true, false])('a busybox-only root (tools: %s): the report comes out, "unknown" where no tool answered', (tools) => {
  const r = reportInBareRoot(app, tools);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const json = JSON.parse(r.stdout) as { machine: { os: string; virtual: unknown; kernel: string }; checks: Check[] };
  expect(problems(json.checks)).toEqual([]);
  // os-release is read through cat; the kernel through node's os module.
  expect(json.machine.os).toBe(tools ? 'bare root' : 'unknown');
  // Without lscpu and dmesg, virtual comes from /proc/cpuinfo's flags.
  if (!tools) expect(json.machine.virtual).toBe(/^flags.*\bhypervisor\b/m.test(readFileSync('/proc/cpuinfo', 'utf8')));
});
