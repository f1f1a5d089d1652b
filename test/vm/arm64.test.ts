/**
 * The arm64 images (`make images ARCH=arm64`, build/vms-arm64) under
 * qemu-system-aarch64 (`virt`, TCG): the aarch64 executable doing in a
 * netvm and an appvm what the x86_64 one does in topology.test.ts and
 * uplink.test.ts, in one short pass:
 *   - both boot, guestnet configures each end of their link, they ping;
 *   - `guestnet flush` and `guestnet apply` on the appvm's shell: the link
 *     drifts, then is configured again and answers;
 *   - a provider NIC hot-added to the netvm (into a PCIe root port) is
 *     configured by the netvm's `guestnet watch`;
 *   - the appvm fetches a page from the upstream host, masqueraded to the
 *     netvm's DHCP lease, by address and by name (the netvm's guestnet dns).
 *
 * Needs root, qemu-system-aarch64 and build/vms-arm64. Console logs go to
 * build/vm-test/arm64/.
 */
import { mkdirSync, rmSync } from 'fs';
import { join } from 'path';
import { MACHINES } from './arch';
import { checkHost, checkImages, esc, hasRoute, waitLine } from './checks';
import { VirtioConsole } from './console';
import { HostSide, ROOT, clientMac, providerMac } from './fixture';
import { FETCH, FETCH_BY_NAME, ifaceWith, leaseOn, stopAll, until } from './guest';
import { Qmp } from './qmp';
import { Nic, Vm } from './qemu';
import { Upstream, hasRouteTo } from './upstream';

const ARCH = 'arm64';
const LOGS = join(ROOT, 'build/vm-test/arm64');

// Generous for TCG on a loaded 2-core machine; a boot takes ~10 s idle.
const BOOT_MS = 240_000;
const STEP_MS = 120_000;

// Link A: appvm <-> netvm at boot. Link B: a provider NIC hot-added to the
// netvm later (its client end stays empty). HW: the netvm's uplink.
const LINK_A = { bridge: 'gn-br-a', client: 'gn-app-a', provider: 'gn-net-a', pp: '01:02', addr: '100.64.1.2' };
const LINK_B = { bridge: 'gn-br-b', client: 'gn-app-b', provider: 'gn-net-b', pp: '01:03', addr: '100.64.1.3' };
const HW: Nic = { id: 'hw0', mac: '52:54:00:c0:ff:ee', tap: 'gn-hw0' };

const CONFIGURED = /GUESTNET-TEST: configured/;
const ROUTES = /GUESTNET-TEST: routes ([^\r\n]*)/;

/** The part of `guestnet status --json IFACE` this test reads. */
interface LinkStatus {
  kind: string;
  drifted: boolean;
  current: { addrs: { address: string; prefix: number }[] };
}

async function statusOf(con: VirtioConsole, ifname: string): Promise<LinkStatus> {
  const { interfaces } = JSON.parse(await con.check(`guestnet status --json ${ifname}`)) as { interfaces: LinkStatus[] };
  return interfaces[0];
}

const addrsOf = (s: LinkStatus) => s.current.addrs.map((a) => `${a.address}/${a.prefix}`);

describe('arm64 images under qemu-system-aarch64: link, apply, hot-add, uplink', () => {
  let host: HostSide | undefined;
  let upstream: Upstream | undefined;
  const consoles: Record<string, VirtioConsole> = {};
  let qmp: Qmp | undefined;
  let netvm: Vm;
  let appvm: Vm;
  let stage = 0;
  const requireStage = (n: number) => {
    if (stage < n) throw new Error('not run: an earlier step of this test failed');
  };

  const boot = (name: string, nics: Nic[], qmpSocket?: string): Vm =>
    host!.boot(name, { name, nics, logFile: join(LOGS, `${name}.log`), consoleSocket: host!.socket(`${name}.hvc0`), qmpSocket });

  beforeAll(async () => {
    checkImages(MACHINES[ARCH].vms, MACHINES[ARCH].makeImages);
    checkHost(ARCH);
    rmSync(LOGS, { recursive: true, force: true });
    mkdirSync(LOGS, { recursive: true });
    host = HostSide.create([LINK_A, LINK_B], ARCH);
    upstream = new Upstream(host.ns, LOGS, 'gn-br-up', [HW.tap]);
    await upstream.start();
  }, 30_000);

  afterAll(() => stopAll(host, upstream, consoles, qmp), 30_000);

  it('boots an aarch64 netvm and appvm that configure their link and ping each other', async () => {
    netvm = boot('netvm', [{ id: 'net-a', mac: providerMac(LINK_A.pp), tap: LINK_A.provider }, HW], host!.socket('netvm.qmp'));
    appvm = boot('appvm', [{ id: 'net-a', mac: clientMac(LINK_A.pp), tap: LINK_A.client }]);
    for (const vm of [netvm, appvm]) {
      consoles[vm.opts.name] = await VirtioConsole.connect(vm.opts.name, vm.opts.consoleSocket!, join(LOGS, `${vm.opts.name}.hvc0.log`));
    }
    qmp = await Qmp.connect(netvm.opts.qmpSocket!);
    await Promise.all([netvm.waitFor(CONFIGURED, BOOT_MS), appvm.waitFor(CONFIGURED, BOOT_MS)]);
    expect(await consoles.netvm.check('uname -m')).toBe('aarch64\n');
    await appvm.waitFor(/GUESTNET-TEST: ping 169\.254\.0\.1 ok/, STEP_MS);
    await netvm.waitFor(new RegExp(`GUESTNET-TEST: ping ${esc(LINK_A.addr)} ok`), STEP_MS);
    stage = 1;
  }, BOOT_MS + 2 * STEP_MS);

  it('guestnet apply on the appvm configures a flushed link again', async () => {
    requireStage(1);
    const app = consoles.appvm;
    await app.check('guestnet flush eth0');
    expect(await statusOf(app, 'eth0')).toMatchObject({ kind: 'client', drifted: true, current: { addrs: [] } });
    await app.check('guestnet apply');
    const status = await statusOf(app, 'eth0');
    expect(status).toMatchObject({ kind: 'client', drifted: false });
    expect(addrsOf(status)).toContain(`${LINK_A.addr}/32`);
    await app.check('ping -c 1 -W 2 169.254.0.1');
    stage = 2;
  }, 2 * STEP_MS);

  it("configures a provider NIC hot-added to the netvm through a PCIe root port", async () => {
    requireStage(2);
    const from = netvm.console.length;
    await qmp!.execute('netdev_add', { type: 'tap', id: 'net-b', ifname: LINK_B.provider, script: 'no', downscript: 'no' });
    await qmp!.execute('device_add', {
      driver: 'virtio-net-pci', id: 'dev-net-b', netdev: 'net-b', mac: providerMac(LINK_B.pp), ...netvm.hotplugBus(),
    });
    const line = await netvm.waitFor(/guestnet: (\w+): configured as provider/, STEP_MS, from);
    const status = await statusOf(consoles.netvm, line.match[1]);
    expect(status).toMatchObject({ kind: 'provider', drifted: false });
    expect(addrsOf(status)).toContain('169.254.0.1/32');
    await waitLine(netvm, ROUTES, (r) => hasRoute(r, LINK_A.addr) && hasRoute(r, LINK_B.addr), from, STEP_MS);
    stage = 3;
  }, 2 * STEP_MS);

  it('the appvm reaches the upstream host through the netvm, masqueraded to its lease, also by name', async () => {
    requireStage(3);
    // The upstream cannot answer a client address: only masquerade can.
    expect(hasRouteTo(host!.ns, LINK_A.addr)).toBe(false);
    const lease = await leaseOn(consoles.netvm, await ifaceWith(consoles.netvm, HW.mac));
    const page = await until(consoles.appvm, FETCH, STEP_MS);
    expect(page.trim()).toBe(`upstream sees ${lease}`);
    expect((await until(consoles.appvm, FETCH_BY_NAME, STEP_MS)).trim()).toBe(`upstream sees ${lease}`);
  }, 2 * STEP_MS);
});
