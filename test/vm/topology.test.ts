/**
 * Real-VM end-to-end test of the images from `make images` (build/vms).
 *
 * Rebuilds Spectrum's host side inside a throwaway network namespace: one
 * bridge per inter-guest link with a tap for each end. Boots the netvm and an
 * appvm, hot-plugs a second provider NIC into the running netvm for a second
 * appvm (as the host does when another client VM starts), then unplugs it.
 * The guests check connectivity themselves and report on the serial console
 * with GUESTNET-TEST marker lines (see initramfs/rootfs).
 *
 * Needs root, qemu-system-x86_64 and build/vms. TCG by default; set
 * GUESTNET_VM_ACCEL=kvm to use KVM. Console logs go to build/vm-test/, the
 * sizes and boot times to build/vm-report.json.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { Netns } from './netns';
import { checkHost, checkImages } from './preflight';
import { Qmp } from './qmp';
import { Nic, Vm, accelArgs } from './qemu';

const ROOT = resolve(__dirname, '../..');
const VMS = join(ROOT, 'build/vms');
const LOGS = join(ROOT, 'build/vm-test');
const REPORT = join(ROOT, 'build/vm-report.json');

// Generous for TCG on a loaded 2-core machine; a boot takes a few seconds.
const BOOT_MS = 180_000;
const STEP_MS = 120_000;

// Link A: appvm1 <-> netvm (NIC present at boot). Link B: appvm2 <-> netvm
// (provider NIC hot-plugged). Link B uses the seed page's example MAC.
const LINK_A = { bridge: 'gn-br-a', client: 'gn-app-a', provider: 'gn-net-a', pp: '01:02', addr: '100.64.1.2' };
const LINK_B = { bridge: 'gn-br-b', client: 'gn-app-b', provider: 'gn-net-b', pp: 'a5:46', addr: '100.64.165.70' };
const clientMac = (pp: string) => `0a:b3:ec:00:${pp}`;
const providerMac = (pp: string) => `0a:b3:ec:80:${pp}`;

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const CONFIGURED = /GUESTNET-TEST: configured/;
const GATEWAY_OK = /GUESTNET-TEST: ping 169\.254\.0\.1 ok/;
const pingOk = (addr: string) => new RegExp(`GUESTNET-TEST: ping ${esc(addr)} ok`);
const ROUTES = /GUESTNET-TEST: routes ([^\r\n]*)/;
const ADDRS = /GUESTNET-TEST: addrs ([^\r\n]*)/;

const hasRoute = (routes: string, addr: string) =>
  routes.split(';').some((r) => r.trim().startsWith(`${addr} dev `));

describe('Spectrum topology in VMs: netvm + app VMs with NIC hotplug', () => {
  let ns: Netns | undefined;
  let sockDir: string | undefined;
  let qmp: Qmp | undefined;
  const vms: Vm[] = [];
  const report: Record<string, unknown> = {};
  let netvm: Vm;
  let appvm1: Vm;
  // Each step builds on the previous one; fail fast instead of timing out.
  let stage = 0;
  const requireStage = (n: number) => {
    if (stage < n) throw new Error('not run: an earlier step of this topology failed');
  };

  const boot = (name: string, image: string, nics: Nic[], qmpSocket?: string): Vm => {
    const vm = new Vm({ name, imageDir: join(VMS, image), netns: ns!.name, nics, qmpSocket, logFile: join(LOGS, `${name}.log`) });
    vms.push(vm);
    return vm;
  };

  beforeAll(() => {
    checkImages(VMS);
    checkHost();
    mkdirSync(LOGS, { recursive: true });
    sockDir = mkdtempSync(join(tmpdir(), 'gn-vm-'));
    ns = Netns.create();
    for (const l of [LINK_A, LINK_B]) {
      ns.addBridge(l.bridge);
      ns.addTap(l.client, l.bridge);
      ns.addTap(l.provider, l.bridge);
    }
  }, 30_000);

  afterAll(async () => {
    try {
      qmp?.close();
      await Promise.all(vms.map((vm) => vm.stop()));
    } finally {
      ns?.delete();
      if (sockDir) rmSync(sockDir, { recursive: true, force: true });
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

    const qmpSocket = join(sockDir!, 'netvm.qmp');
    netvm = boot('netvm', 'netvm', [{ id: 'net-a', mac: providerMac(LINK_A.pp), tap: LINK_A.provider }], qmpSocket);
    appvm1 = boot('appvm1', 'appvm', [{ id: 'net-a', mac: clientMac(LINK_A.pp), tap: LINK_A.client }]);
    qmp = await Qmp.connect(qmpSocket);

    const [appConfigured, netConfigured] = await Promise.all([
      appvm1.waitFor(CONFIGURED, BOOT_MS),
      netvm.waitFor(CONFIGURED, BOOT_MS),
    ]);
    report.msToConfigured = { appvm: appConfigured.atMs, netvm: netConfigured.atMs };
    // rcS's first line: what of that is kernel + initramfs rather than guestnet.
    const BOOTED = /GUESTNET-TEST: booted/;
    report.msToUserspace = { appvm: (await appvm1.waitFor(BOOTED, 1)).atMs, netvm: (await netvm.waitFor(BOOTED, 1)).atMs };

    // Both ends got the state the spec prescribes (the appvm prints it once,
    // after apply; the netvm whenever it changes).
    const addrs = await appvm1.waitFor(ADDRS, STEP_MS);
    expect(addrs.match[1]).toContain(`eth0 ${LINK_A.addr}/32`);
    const routes = await appvm1.waitFor(ROUTES, STEP_MS);
    expect(routes.match[1]).toContain('default via 169.254.0.1 dev eth0');
    expect(routes.match[1]).toContain('169.254.0.1 dev eth0 scope link');
    await netvm.waitForValue(ADDRS, (a) => a.includes('eth0 169.254.0.1/32'), STEP_MS);
    await netvm.waitForValue(ROUTES, (r) => hasRoute(r, LINK_A.addr), STEP_MS);
    await netvm.waitForValue(/GUESTNET-TEST: forwarding (\d)/, (f) => f === '1', STEP_MS);

    const [gw, client] = await Promise.all([
      appvm1.waitFor(GATEWAY_OK, STEP_MS),
      netvm.waitFor(pingOk(LINK_A.addr), STEP_MS),
    ]);
    report.msToPing = { appvmToNetvm: gw.atMs, netvmToAppvm: client.atMs };
    stage = 1;
  }, BOOT_MS + 3 * STEP_MS);

  it('configures a provider NIC hot-plugged for a second appvm', async () => {
    requireStage(1);
    const t0 = Date.now();
    await qmp!.execute('netdev_add', { type: 'tap', id: 'net-b', ifname: LINK_B.provider, script: 'no', downscript: 'no' });
    await qmp!.execute('device_add', { driver: 'virtio-net-pci', id: 'dev-net-b', netdev: 'net-b', mac: providerMac(LINK_B.pp) });
    const appvm2 = boot('appvm2', 'appvm', [{ id: 'net-b', mac: clientMac(LINK_B.pp), tap: LINK_B.client }]);

    // The netvm routes to both clients.
    const both = await netvm.waitForValue(ROUTES, (r) => hasRoute(r, LINK_A.addr) && hasRoute(r, LINK_B.addr), STEP_MS);
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
    stage = 2;
  }, BOOT_MS + 2 * STEP_MS);

  it('drops only the unplugged client route when the NIC is removed', async () => {
    requireStage(2);
    // As on the host: the client VM stops, then its provider NIC goes away.
    const appvm2 = vms.find((vm) => vm.opts.name === 'appvm2');
    await appvm2?.stop();
    const from = netvm.console.length;
    await qmp!.execute('device_del', { id: 'dev-net-b' });
    await qmp!.waitEvent('DEVICE_DELETED', (d) => d.device === 'dev-net-b', STEP_MS);
    await qmp!.execute('netdev_del', { id: 'net-b' });

    const after = await netvm.waitForValue(ROUTES, (r) => !hasRoute(r, LINK_B.addr), STEP_MS, from);
    expect(hasRoute(after.match[1], LINK_A.addr)).toBe(true);
    // The selftest re-pings every client after a route change: appvm1 still answers.
    await netvm.waitFor(pingOk(LINK_A.addr), STEP_MS, after.end);
    report.complete = true;
  }, 3 * STEP_MS);
});
