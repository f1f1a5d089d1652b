/**
 * The Debian guest (build/vms/debian: debootstrap bookworm, systemd as PID 1,
 * guestnet installed from its .deb) as an app VM on a link to the netvm
 * image, as Spectrum wires them. Everything inside the Debian guest is read
 * through its serial console, where root is logged in (test/vm/console.ts):
 * systemd started guestnet.service (Type=notify, so "active" means guestnet
 * sent READY=1 after configuring), the client pings the provider, a NIC
 * hot-added with device_add is configured by the unit's watch, and stopping
 * or restarting the service keeps the configuration.
 *
 * Needs root, qemu-system-x86_64 and build/vms (make images). Console logs go
 * to build/vm-test/, timings to build/vm-report-debian.json.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { esc } from './checks';
import { GuestShell, SerialShell } from './console';
import { HostSide, ROOT, VMS, clientMac, providerMac } from './fixture';
import { Qmp } from './qmp';
import { accelArgs } from './arch';
import { Nic, Vm } from './qemu';

const LOGS = join(ROOT, 'build/vm-test');
const REPORT = join(ROOT, 'build/vm-report-debian.json');

// systemd under TCG on a loaded 2-core machine boots in well under a minute.
const BOOT_MS = 300_000;
const STEP_MS = 120_000;

// Link A: present at boot. Link B: hot-added to both VMs while they run.
const LINK_A = { bridge: 'gn-br-a', client: 'gn-deb-a', provider: 'gn-net-a', pp: '01:02', addr: '100.64.1.2' };
const LINK_B = { bridge: 'gn-br-b', client: 'gn-deb-b', provider: 'gn-net-b', pp: 'a5:46', addr: '100.64.165.70' };
const PROMPT = /root@debian:~# /;
const pingOk = (addr: string) => new RegExp(`GUESTNET-TEST: ping ${esc(addr)} ok`);

interface IpLink {
  ifname: string;
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev: string;
}

/** What guestnet configured for one link, as the guest's kernel has it. */
interface LinkState {
  ifname: string;
  addrs: string[];
  routes: string[];
}

async function linkState(sh: GuestShell, mac: string): Promise<LinkState | undefined> {
  const links = JSON.parse(await sh.check('ip -j addr show')) as IpLink[];
  const link = links.find((l) => l.address === mac);
  if (!link) return undefined;
  const routes = JSON.parse(await sh.check(`ip -j -4 route show dev ${link.ifname}`)) as Omit<IpRoute, 'dev'>[];
  return {
    ifname: link.ifname,
    addrs: (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    routes: routes.map((r) => (r.gateway ? `${r.dst} via ${r.gateway}` : r.dst)).sort(),
  };
}

/** Polls until the link with `mac` has the client configuration for `addr`. */
async function configured(sh: GuestShell, mac: string, addr: string): Promise<LinkState> {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const s = await linkState(sh, mac);
    if (s && s.addrs.includes(`${addr}/32`) && s.routes.includes('default via 169.254.0.1')) return s;
    if (Date.now() > deadline) throw new Error(`${mac}: not configured as ${addr} within ${STEP_MS} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function unitState(sh: GuestShell, props = 'ActiveState,SubState,MainPID,Type'): Promise<Record<string, string>> {
  const out = await sh.check(`systemctl show -p ${props} guestnet`);
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
}

describe('Debian guest: guestnet.service from the .deb under systemd', () => {
  let host: HostSide | undefined;
  const qmps: Qmp[] = [];
  const report: Record<string, unknown> = {};
  let netvm: Vm;
  let debian: Vm;
  let sh: GuestShell;
  let stage = 0;
  const requireStage = (n: number) => {
    if (stage < n) throw new Error('not run: an earlier step of this test failed');
  };

  const boot = (name: string, image: string, nics: Nic[], interactive = false): Vm => {
    return host!.boot(image, { name, nics, qmpSocket: host!.socket(`${name}.qmp`), interactive, logFile: join(LOGS, `${name}.log`) });
  };

  /** As Spectrum's host does: a tap on the link's bridge, then the NIC. */
  const hotAdd = async (vm: Vm, id: string, tap: string, mac: string) => {
    const qmp = await Qmp.connect(vm.opts.qmpSocket!);
    qmps.push(qmp);
    await qmp.execute('netdev_add', { type: 'tap', id, ifname: tap, script: 'no', downscript: 'no' });
    await qmp.execute('device_add', { driver: 'virtio-net-pci', id: `dev-${id}`, netdev: id, mac });
  };

  beforeAll(() => {
    for (const f of ['debian/vmlinux', 'debian/initramfs', 'debian/rootfs.ext4', 'netvm/rootfs.ext4']) {
      if (!existsSync(join(VMS, f))) throw new Error(`${join(VMS, f)} missing: run "make images" first`);
    }
    if (process.getuid?.() !== 0) throw new Error('the VM test needs root (network namespaces, taps)');
    mkdirSync(LOGS, { recursive: true });
    host = HostSide.create([LINK_A, LINK_B]);
  }, 30_000);

  afterAll(async () => {
    try {
      for (const q of qmps) q.close();
    } finally {
      await host?.stop();
    }
    if (Object.keys(report).length > 0) {
      writeFileSync(REPORT, JSON.stringify(report, null, 2) + '\n');
      console.log(`Debian VM report (${REPORT}):\n${JSON.stringify(report, null, 2)}`);
    }
  }, 30_000);

  it('boots with systemd, which starts guestnet; the client pings the provider', async () => {
    report.date = new Date().toISOString();
    report.accel = accelArgs().join(' ');
    report.qemu = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    netvm = boot('netvm-deb', 'netvm', [{ id: 'net-a', mac: providerMac(LINK_A.pp), tap: LINK_A.provider }]);
    debian = boot('debian', 'debian', [{ id: 'net-a', mac: clientMac(LINK_A.pp), tap: LINK_A.client }], true);

    sh = await SerialShell.login(debian, PROMPT, BOOT_MS);
    report.msToLoginPrompt = (await debian.waitFor(PROMPT, 1)).atMs;
    // Until start-up finishes systemd prints unit status on the console,
    // which would land inside command output.
    const { out: state } = await sh.run('systemctl is-system-running --wait', BOOT_MS);
    report.systemState = state.trim();
    if (report.systemState !== 'running') report.failedUnits = await sh.check('systemctl --failed --plain --no-legend');
    expect((await sh.check('readlink /proc/1/exe')).trim()).toBe('/usr/lib/systemd/systemd');
    expect((await sh.check('dpkg-query -W -f=\'${Status}\' guestnet')).trim()).toBe('install ok installed');

    // Type=notify: systemd calls the unit active only once guestnet has sent
    // READY=1, which it does after configuring the links present at start.
    const deadline = Date.now() + STEP_MS;
    let unit = await unitState(sh);
    while (unit.ActiveState !== 'active' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      unit = await unitState(sh);
    }
    expect(unit).toMatchObject({ Type: 'notify', ActiveState: 'active', SubState: 'running' });
    // Seconds since the kernel started: when systemd started guestnet, and
    // when guestnet reported READY=1.
    const t = await unitState(sh, 'InactiveExitTimestampMonotonic,ActiveEnterTimestampMonotonic');
    report.guestnetStartedAtS = Number(t.InactiveExitTimestampMonotonic) / 1e6;
    report.guestnetReadyAtS = Number(t.ActiveEnterTimestampMonotonic) / 1e6;

    const a = await configured(sh, clientMac(LINK_A.pp), LINK_A.addr);
    expect(a.routes).toEqual(['169.254.0.1', 'default via 169.254.0.1']);
    expect(await sh.check('journalctl -b -u guestnet -o cat')).toContain(`${a.ifname}: configured as client`);
    await sh.check('ping -c 1 -W 5 169.254.0.1');
    await netvm.waitFor(pingOk(LINK_A.addr), STEP_MS);
    stage = 1;
  }, BOOT_MS + 4 * STEP_MS);

  it('configures a NIC hot-added to the running guest (the unit watches)', async () => {
    requireStage(1);
    await hotAdd(netvm, 'net-b', LINK_B.provider, providerMac(LINK_B.pp));
    const t0 = Date.now();
    await hotAdd(debian, 'net-b', LINK_B.client, clientMac(LINK_B.pp));
    const b = await configured(sh, clientMac(LINK_B.pp), LINK_B.addr);
    report.msDeviceAddToConfigured = Date.now() - t0;
    await sh.check(`ping -c 1 -W 5 -I ${b.ifname} 169.254.0.1`);
    // Not the netvm pinging LINK_B's address: both links lead to the one
    // netvm, so the guest answers through its preferred default route
    // (LINK_A's link) with LINK_B's address, and the netvm's strict
    // reverse-path filter rightly drops that as a forged source.
    stage = 2;
  }, 3 * STEP_MS);

  it('keeps the configuration across systemctl restart and stop', async () => {
    requireStage(2);
    const both = async () => [await linkState(sh, clientMac(LINK_A.pp)), await linkState(sh, clientMac(LINK_B.pp))];
    const before = await both();
    const { MainPID: pid } = await unitState(sh);

    await sh.check('systemctl restart guestnet', STEP_MS);
    const restarted = await unitState(sh);
    expect(restarted).toMatchObject({ ActiveState: 'active', SubState: 'running' });
    expect(restarted.MainPID).not.toBe(pid);
    expect(await both()).toEqual(before);

    await sh.check('systemctl stop guestnet', STEP_MS);
    expect(await unitState(sh)).toMatchObject({ ActiveState: 'inactive', SubState: 'dead' });
    expect(await both()).toEqual(before);
    await sh.check(`ping -c 1 -W 5 -I ${before[1]!.ifname} 169.254.0.1`);
  }, 3 * STEP_MS);
});
