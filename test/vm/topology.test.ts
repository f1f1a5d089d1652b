/**
 * Real-VM end-to-end test of the images from `make images` (build/vms), run
 * the way Spectrum runs them: under s6, a root shell on the virtio console.
 *
 * Rebuilds Spectrum's host side inside a throwaway network namespace: one
 * bridge per inter-guest link with a tap for each end. Boots the netvm and an
 * appvm, drives their hvc0 shells (status, s6-svstat, kill -9 of guestnet),
 * hot-plugs a second provider NIC into the running netvm for a second appvm
 * (as the host does when another client VM starts), unplugs it, hot-plugs a
 * second client NIC into the appvm (configured by mdev), and powers the appvm
 * off from its shell. The guests' services report on the serial console with
 * GUESTNET-TEST marker lines (see initramfs/rootfs).
 *
 * Needs root, qemu-system-x86_64 and build/vms. TCG by default; set
 * GUESTNET_VM_ACCEL=kvm to use KVM. Serial and virtio console logs go to
 * build/vm-test/, the sizes and times to build/vm-report.json.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { checkHost, checkImages, esc, hasRoute, poll, waitLine } from './checks';
import { VirtioConsole } from './console';
import { HostSide, ROOT, VMS, clientMac, providerMac } from './fixture';
import { Qmp } from './qmp';
import { accelArgs } from './arch';
import { Nic, Vm } from './qemu';

const LOGS = join(ROOT, 'build/vm-test');
const REPORT = join(ROOT, 'build/vm-report.json');

// Generous for TCG on a loaded 2-core machine; a boot takes a few seconds.
const BOOT_MS = 180_000;
const STEP_MS = 120_000;

// Link A: appvm1 <-> netvm (NICs present at boot). Link B: appvm2 <-> netvm
// (provider NIC hot-plugged; the seed page's example MAC). Link C: a second
// client NIC hot-plugged into appvm1 (no provider on it).
const LINK_A = { bridge: 'gn-br-a', client: 'gn-app-a', provider: 'gn-net-a', pp: '01:02', addr: '100.64.1.2' };
const LINK_B = { bridge: 'gn-br-b', client: 'gn-app-b', provider: 'gn-net-b', pp: 'a5:46', addr: '100.64.165.70' };
const LINK_C = { bridge: 'gn-br-c', client: 'gn-app-c', pp: '03:04', addr: '100.64.3.4' };

const CONFIGURED = /GUESTNET-TEST: configured/;
const GATEWAY_OK = /GUESTNET-TEST: ping 169\.254\.0\.1 ok/;
const pingOk = (addr: string) => new RegExp(`GUESTNET-TEST: ping ${esc(addr)} ok`);
const ROUTES = /GUESTNET-TEST: routes ([^\r\n]*)/;
const ADDRS = /GUESTNET-TEST: addrs ([^\r\n]*)/;
/** guestnet watch's readiness log line (the service's stderr, on the serial console). */
const WATCH_READY = /guestnet: ready: /;

/** The part of `guestnet status --json` this test reads. */
interface LinkStatus {
  ifname: string;
  kind: string;
  drifted?: boolean;
  current: { addrs: { address: string; prefix: number }[] };
}

async function statusOf(con: VirtioConsole, ifname: string): Promise<LinkStatus> {
  const out = await con.check(`guestnet status --json ${ifname}`);
  const { interfaces } = JSON.parse(out) as { interfaces: LinkStatus[] };
  const link = interfaces.find((l) => l.ifname === ifname);
  if (!link) throw new Error(`${con.name}: no ${ifname} in guestnet status --json:\n${out}`);
  return link;
}

const addrsOf = (s: LinkStatus) => s.current.addrs.map((a) => `${a.address}/${a.prefix}`);

describe('Spectrum topology in VMs under s6: netvm + app VMs, consoles, restart, hotplug', () => {
  let host: HostSide | undefined;
  const qmps: Record<string, Qmp> = {};
  const consoles: Record<string, VirtioConsole> = {};
  const report: Record<string, unknown> = {};
  let netvm: Vm;
  let appvm1: Vm;
  let appvm2: Vm | undefined;
  // Each step builds on the previous one; fail fast instead of timing out.
  let stage = 0;
  const requireStage = (n: number) => {
    if (stage < n) throw new Error('not run: an earlier step of this topology failed');
  };

  /** Boots `image` with its serial log, hvc0 socket and (optionally) QMP. */
  const boot = (name: string, image: string, nics: Nic[], withQmp = false): Vm => {
    return host!.boot(image, {
      name, nics, logFile: join(LOGS, `${name}.log`),
      qmpSocket: withQmp ? host!.socket(`${name}.qmp`) : undefined,
      consoleSocket: host!.socket(`${name}.hvc0`),
    });
  };
  const attach = async (vm: Vm) => {
    const name = vm.opts.name;
    consoles[name] = await VirtioConsole.connect(name, vm.opts.consoleSocket!, join(LOGS, `${name}.hvc0.log`));
    if (vm.opts.qmpSocket) qmps[name] = await Qmp.connect(vm.opts.qmpSocket);
  };

  beforeAll(() => {
    checkImages(VMS);
    checkHost();
    mkdirSync(LOGS, { recursive: true });
    host = HostSide.create([LINK_A, LINK_B, LINK_C]);
  }, 30_000);

  afterAll(async () => {
    try {
      for (const q of Object.values(qmps)) q.close();
      await Promise.all(Object.values(consoles).map((c) => c.close()));
    } finally {
      await host?.stop();
    }
    if (Object.keys(report).length > 0) {
      writeFileSync(REPORT, JSON.stringify(report, null, 2) + '\n');
      console.log(`VM report (${REPORT}):\n${JSON.stringify(report, null, 2)}`);
    }
  }, 30_000);

  it('boots the netvm and an appvm that reach each other', async () => {
    report.date = new Date().toISOString();
    report.complete = false; // set by the last test
    report.accel = accelArgs().join(' ');
    report.qemu = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    const sizes: Record<string, Record<string, number>> = {};
    for (const vm of ['appvm', 'netvm']) {
      sizes[vm] = {};
      for (const f of ['vmlinux', 'initramfs', 'rootfs.ext4']) sizes[vm][f] = statSync(join(VMS, vm, f)).size;
    }
    report.imageBytes = sizes;

    netvm = boot('netvm', 'netvm', [{ id: 'net-a', mac: providerMac(LINK_A.pp), tap: LINK_A.provider }], true);
    appvm1 = boot('appvm1', 'appvm', [{ id: 'net-a', mac: clientMac(LINK_A.pp), tap: LINK_A.client }], true);
    await Promise.all([attach(netvm), attach(appvm1)]);

    // "configured": a service that ran `s6-svwait -U /run/service/guestnet`.
    const [appConfigured, netConfigured] = await Promise.all([
      appvm1.waitFor(CONFIGURED, BOOT_MS),
      netvm.waitFor(CONFIGURED, BOOT_MS),
    ]);
    report.msToConfigured = { appvm: appConfigured.atMs, netvm: netConfigured.atMs };
    // Stage 1's line: what of that is kernel + initramfs rather than s6 + guestnet.
    const BOOTED = /GUESTNET-TEST: booted/;
    report.msToUserspace = { appvm: (await appvm1.waitFor(BOOTED, 1)).atMs, netvm: (await netvm.waitFor(BOOTED, 1)).atMs };

    // Both ends got the state the spec prescribes (the appvm prints it once,
    // after apply; the netvm whenever it changes).
    const addrs = await appvm1.waitFor(ADDRS, STEP_MS);
    expect(addrs.match[1]).toContain(`eth0 ${LINK_A.addr}/32`);
    const routes = await appvm1.waitFor(ROUTES, STEP_MS);
    expect(routes.match[1]).toContain('default via 169.254.0.1 dev eth0');
    expect(routes.match[1]).toContain('169.254.0.1 dev eth0 scope link');
    await waitLine(netvm, ADDRS, (a) => a.includes('eth0 169.254.0.1/32'), 0, STEP_MS);
    await waitLine(netvm, ROUTES, (r) => hasRoute(r, LINK_A.addr), 0, STEP_MS);
    await waitLine(netvm, /GUESTNET-TEST: forwarding (\d)/, (f) => f === '1', 0, STEP_MS);

    const [gw, client] = await Promise.all([
      appvm1.waitFor(GATEWAY_OK, STEP_MS),
      netvm.waitFor(pingOk(LINK_A.addr), STEP_MS),
    ]);
    report.msToPing = { appvmToNetvm: gw.atMs, netvmToAppvm: client.atMs };
    stage = 1;
  }, BOOT_MS + 3 * STEP_MS);

  it('gives root a shell on hvc0 with guestnet and the s6 tools on PATH', async () => {
    requireStage(1);
    for (const name of ['netvm', 'appvm1']) {
      const con = consoles[name];
      expect(await con.check('id -u; tty')).toBe('0\n/dev/hvc0\n');
      // Up and ready: guestnet wrote its newline to fd 3 (notification-fd).
      expect(await con.check('s6-svstat -o up,ready /run/service/guestnet')).toBe('true true\n');
    }
    const provider = await statusOf(consoles.netvm, 'eth0');
    expect(provider).toMatchObject({ kind: 'provider', drifted: false });
    expect(addrsOf(provider)).toContain('169.254.0.1/32');
    const client = await statusOf(consoles.appvm1, 'eth0');
    expect(client).toMatchObject({ kind: 'client', drifted: false });
    expect(addrsOf(client)).toContain(`${LINK_A.addr}/32`);
    stage = 2;
  }, 4 * STEP_MS);

  it('guestnet report on the consoles: the appvm all ok; the netvm, which has no uplink here, says so', async () => {
    requireStage(2);
    type Report = { checks: { id: string; verdict: string; detail?: string }[] };
    const problems = (out: string) => (JSON.parse(out) as Report).checks.filter((c) => c.verdict !== 'ok').map((c) => c.id);
    const app = await consoles.appvm1.run('guestnet report --json', STEP_MS);
    expect([app.status, problems(app.out)]).toEqual([0, []]);
    const net = await consoles.netvm.run('guestnet report --json', STEP_MS);
    expect([net.status, problems(net.out)]).toEqual([1, ['provider-uplink-address']]);
  }, 2 * STEP_MS + 10_000);

  it('restarts guestnet after kill -9: new PID, ready again, state and traffic kept', async () => {
    requireStage(2);
    const net = consoles.netvm;
    const app = consoles.appvm1;
    const STATE = 'ip -4 -o addr show; ip -4 route show; cat /proc/sys/net/ipv4/ip_forward';
    const svstat = 's6-svstat -o up,ready,pid /run/service/guestnet';
    const pid = Number(await net.check('s6-svstat -o pid /run/service/guestnet'));
    const before = await net.check(STATE);
    const from = netvm.console.length;
    // Traffic across the restart: the appvm pings the netvm meanwhile.
    await app.check('ping -i 0.2 169.254.0.1 >/run/tmp/ping.log 2>&1 & true');

    const t0 = Date.now();
    await net.check(`kill -9 ${pid}`);
    const newPid = await poll('guestnet up and ready with a new PID', async () => {
      const m = /^true true (\d+)$/.exec((await net.check(svstat)).trim());
      return m && Number(m[1]) !== pid ? Number(m[1]) : undefined;
    }, STEP_MS);
    report.restart = { msKillToReadyAgain: Date.now() - t0 };
    expect(newPid).not.toBe(pid);
    expect(await net.check(STATE)).toBe(before);
    // The restarted watcher logs on the serial console too.
    await netvm.waitFor(WATCH_READY, STEP_MS, from);

    const ping = await app.run('sleep 1; kill -INT $!; wait; cat /run/tmp/ping.log');
    const seqs = [...ping.out.matchAll(/seq=(\d+)/g)].map((m) => Number(m[1]));
    const [, sent, received] = /(\d+) packets transmitted, (\d+) packets received/.exec(ping.out) ?? [];
    // Every request got its answer in order, from before the kill to a second
    // after the restart; only the one in flight at ^C may go unanswered.
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(Number(received)).toBe(seqs.length);
    expect(Number(received)).toBeGreaterThanOrEqual(Math.max(5, Number(sent) - 1));
    stage = 3;
  }, 3 * STEP_MS);

  it('configures a provider NIC hot-plugged after the restart for a second appvm', async () => {
    requireStage(3);
    const t0 = Date.now();
    await qmps.netvm.execute('netdev_add', { type: 'tap', id: 'net-b', ifname: LINK_B.provider, script: 'no', downscript: 'no' });
    await qmps.netvm.execute('device_add', { driver: 'virtio-net-pci', id: 'dev-net-b', netdev: 'net-b', mac: providerMac(LINK_B.pp) });
    appvm2 = boot('appvm2', 'appvm', [{ id: 'net-b', mac: clientMac(LINK_B.pp), tap: LINK_B.client }]);

    // The netvm routes to both clients.
    const both = await waitLine(netvm, ROUTES, (r) => hasRoute(r, LINK_A.addr) && hasRoute(r, LINK_B.addr), 0, STEP_MS);
    // Marker times count from each qemu's start; re-base them on device_add.
    const sinceAdd = (vm: Vm, atMs: number) => vm.startedAt + atMs - t0;
    const [configured, gw, client] = await Promise.all([
      appvm2.waitFor(CONFIGURED, BOOT_MS),
      appvm2.waitFor(GATEWAY_OK, BOOT_MS),
      netvm.waitFor(pingOk(LINK_B.addr), BOOT_MS, both.end),
    ]);
    report.hotplug = {
      msDeviceAddToNetvmRoute: sinceAdd(netvm, both.atMs),
      msDeviceAddToNetvmPingsAppvm2: sinceAdd(netvm, client.atMs),
      appvm2MsToConfigured: configured.atMs,
      appvm2MsToPing: gw.atMs,
    };
    stage = 4;
  }, BOOT_MS + 2 * STEP_MS);

  it('drops only the unplugged client route when the NIC is removed', async () => {
    requireStage(4);
    // As on the host: the client VM stops, then its provider NIC goes away.
    await appvm2?.stop();
    const from = netvm.console.length;
    await qmps.netvm.execute('device_del', { id: 'dev-net-b' });
    await qmps.netvm.waitEvent('DEVICE_DELETED', (d) => d.device === 'dev-net-b', STEP_MS);
    await qmps.netvm.execute('netdev_del', { id: 'net-b' });

    const after = await waitLine(netvm, ROUTES, (r) => !hasRoute(r, LINK_B.addr), from, STEP_MS);
    expect(hasRoute(after.value, LINK_A.addr)).toBe(true);
    // The selftest re-pings every client after a route change: appvm1 still answers.
    await netvm.waitFor(pingOk(LINK_A.addr), STEP_MS, after.end);
    stage = 5;
  }, 3 * STEP_MS);

  it("configures a client NIC hot-plugged into the appvm through mdev's guestnet line", async () => {
    requireStage(5);
    const from = appvm1.console.length;
    const t0 = Date.now();
    await qmps.appvm1.execute('netdev_add', { type: 'tap', id: 'net-c', ifname: LINK_C.client, script: 'no', downscript: 'no' });
    await qmps.appvm1.execute('device_add', { driver: 'virtio-net-pci', id: 'dev-net-c', netdev: 'net-c', mac: clientMac(LINK_C.pp) });
    // Only mdev runs guestnet in the appvm after boot; its log names the NIC.
    const line = await appvm1.waitFor(/guestnet: (\w+): configured as client/, STEP_MS, from);
    report.appvmHotplug = { msDeviceAddToConfigured: appvm1.startedAt + line.atMs - t0 };
    const ifname = line.match[1];
    expect(ifname).not.toBe('eth0');
    const status = await statusOf(consoles.appvm1, ifname);
    expect(status).toMatchObject({ kind: 'client', drifted: false });
    expect(addrsOf(status)).toContain(`${LINK_C.addr}/32`);
    // What a person does by hand on the shell: flush, see the drift, apply.
    await consoles.appvm1.check(`guestnet flush ${ifname}`);
    expect(await statusOf(consoles.appvm1, ifname)).toMatchObject({ drifted: true, current: { addrs: [] } });
    await consoles.appvm1.check(`guestnet apply ${ifname}`);
    expect(addrsOf(await statusOf(consoles.appvm1, ifname))).toContain(`${LINK_C.addr}/32`);
    stage = 6;
  }, 2 * STEP_MS);

  it('keeps the serial console for logs and the shell on hvc0 only', () => {
    requireStage(6);
    expect(netvm.console).toContain('guestnet: eth0: configured as provider');
    expect(appvm1.console).toContain('guestnet: eth0: configured as client');
    for (const vm of [netvm, appvm1]) {
      // The shell's command markers never reach the serial console.
      expect(vm.console).not.toMatch(/@[BE]\d+@/);
    }
  });

  it('powers the appvm off from its shell: s6 stops the services, qemu exits', async () => {
    requireStage(6);
    consoles.appvm1.send('poweroff');
    await appvm1.waitFor(/s6: services down, poweroff/, STEP_MS);
    expect(await appvm1.waitExit(STEP_MS)).toBe('exit code 0');
    report.complete = true;
  }, 2 * STEP_MS);
});
