/**
 * Real-VM test of the netvm as a complete network provider: its uplink.
 *
 * The netvm gets a hardware NIC on the test namespace's "upstream" bridge,
 * where a DHCP server and a web server live on 203.0.113.1/24 with no route
 * back to 100.64.0.0/16 (see upstream.ts). Two app VMs hang off the netvm on
 * inter-guest links. The app VMs probe on their own (appvm-probe, asked on
 * the kernel command line) and print every result on the console:
 *   - appvm1 fetches a page from 203.0.113.1 and pings it: only masquerade
 *     by the netvm can bring the answers back;
 *   - appvm2 pings appvm1: dropped by the netvm (client isolation), until
 *     the netvm is rebooted with guestnet.opt=allow-client-to-client.
 * Four boots in all; the app VMs keep running across the netvm's reboot.
 *
 * Needs root, qemu-system-x86_64 and build/vms. Console logs and the
 * servers' logs go to build/vm-test/uplink/.
 */
import { mkdirSync, rmSync } from 'fs';
import { join, resolve } from 'path';
import { Netns } from './netns';
import { checkHost, checkImages } from './preflight';
import { Nic, Vm } from './qemu';
import { LEASE_FIRST, LEASE_LAST, UPSTREAM_ADDR, Upstream, WHOAMI_URL, hasRouteTo } from './upstream';

const ROOT = resolve(__dirname, '../..');
const VMS = join(ROOT, 'build/vms');
const LOGS = join(ROOT, 'build/vm-test/uplink');

// Generous for TCG on a loaded 2-core machine; three VMs boot at once.
const BOOT_MS = 240_000;
const STEP_MS = 120_000;
/** Consecutive failed probe rounds that count as "cannot reach". */
const BLOCKED_ROUNDS = 3;

const LINK_1 = { bridge: 'gn-br-1', client: 'gn-app-1', provider: 'gn-net-1', pp: '01:02', addr: '100.64.1.2' };
const LINK_2 = { bridge: 'gn-br-2', client: 'gn-app-2', provider: 'gn-net-2', pp: '01:03', addr: '100.64.1.3' };
const HW_MAC = '52:54:00:c0:ff:ee'; // outside 0A:B3:EC: a hardware NIC to guestnet
const clientNic = (l: typeof LINK_1): Nic => ({ id: 'net0', mac: `0a:b3:ec:00:${l.pp}`, tap: l.client });
const providerNic = (l: typeof LINK_1, id: string): Nic => ({ id, mac: `0a:b3:ec:80:${l.pp}`, tap: l.provider });

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const CONFIGURED = /GUESTNET-TEST: configured/;
const MODULES = /GUESTNET-TEST: modules ([^\r\n]*)/;
const ADDRS = /GUESTNET-TEST: addrs ([^\r\n]*)/;
const ROUTES = /GUESTNET-TEST: routes ([^\r\n]*)/;
const probePing = (addr: string) => new RegExp(`GUESTNET-TEST: probe \\d+ ping ${esc(addr)} (ok|fail)`);
const PROBE_FETCH = new RegExp(`GUESTNET-TEST: probe \\d+ fetch ${esc(WHOAMI_URL)} (ok[^\\r\\n]*|fail)`);
/** "eth1 203.0.113.123/24" in the netvm's address list: its lease. */
const LEASE = /(?:^|;)([^\s;]+) (203\.0\.113\.\d+)\/24/;

describe('netvm uplink in VMs: DHCP on the hardware NIC, masquerade, client isolation', () => {
  let ns: Netns | undefined;
  let upstream: Upstream | undefined;
  const vms: Vm[] = [];
  let netvm: Vm;
  let appvm1: Vm;
  let appvm2: Vm;
  let lease = '';
  // Each step builds on the previous one; fail fast instead of timing out.
  let stage = 0;
  const requireStage = (n: number) => {
    if (stage < n) throw new Error('not run: an earlier step of this test failed');
  };

  const boot = (name: string, image: string, nics: Nic[], append: string[] = []): Vm => {
    const vm = new Vm({ name, imageDir: join(VMS, image), netns: ns!.name, nics, append, logFile: join(LOGS, `${name}.log`) });
    vms.push(vm);
    return vm;
  };
  const bootNetvm = (name: string, append: string[] = []) =>
    boot(name, 'netvm', [
      providerNic(LINK_1, 'net1'),
      providerNic(LINK_2, 'net2'),
      { id: 'hw0', mac: HW_MAC, tap: upstream!.tap },
    ], append);

  beforeAll(async () => {
    checkImages(VMS);
    checkHost();
    rmSync(LOGS, { recursive: true, force: true });
    mkdirSync(LOGS, { recursive: true });
    ns = Netns.create();
    for (const l of [LINK_1, LINK_2]) {
      ns.addBridge(l.bridge);
      ns.addTap(l.client, l.bridge);
      ns.addTap(l.provider, l.bridge);
    }
    upstream = new Upstream(ns, LOGS, 'gn-br-up', 'gn-hw');
    await upstream.start();
  }, 30_000);

  afterAll(async () => {
    try {
      await Promise.all(vms.map((vm) => vm.stop()));
    } finally {
      upstream?.stop();
      ns?.delete();
    }
  }, 30_000);

  it('the netvm loads the netfilter modules and takes a DHCP lease on its hardware NIC', async () => {
    // The upstream cannot answer a client address: only masquerade can.
    expect(hasRouteTo(ns!, LINK_1.addr)).toBe(false);

    netvm = bootNetvm('netvm');
    appvm1 = boot('appvm1', 'appvm', [clientNic(LINK_1)], [`gntest.fetch=${WHOAMI_URL}`, `gntest.ping=${UPSTREAM_ADDR}`]);
    appvm2 = boot('appvm2', 'appvm', [clientNic(LINK_2)], [`gntest.ping=${LINK_1.addr},${UPSTREAM_ADDR}`]);

    const modules = (await netvm.waitFor(MODULES, BOOT_MS)).match[1].split(' ');
    expect(modules).toEqual(expect.arrayContaining(['nf_tables', 'nft_chain_nat', 'nft_masq', 'nf_nat', 'nf_conntrack']));

    const addrs = await netvm.waitForValue(ADDRS, (a) => LEASE.test(a), BOOT_MS);
    const [, hwIf, addr] = LEASE.exec(addrs.match[1])!;
    lease = addr;
    const host = Number(lease.split('.')[3]);
    expect(host).toBeGreaterThanOrEqual(LEASE_FIRST);
    expect(host).toBeLessThanOrEqual(LEASE_LAST);
    // guestnet left the hardware NIC alone: the lease is its only address.
    expect(addrs.match[1].split(';').filter((a) => a.startsWith(`${hwIf} `))).toEqual([`${hwIf} ${lease}/24`]);
    await netvm.waitForValue(ROUTES, (r) => r.includes(`default via ${UPSTREAM_ADDR} dev ${hwIf}`), STEP_MS);
    await netvm.waitFor(CONFIGURED, STEP_MS);
    stage = 1;
  }, BOOT_MS + 2 * STEP_MS);

  it('appvm1 fetches a page from the upstream host and pings it, masqueraded to the lease', async () => {
    requireStage(1);
    const page = await appvm1.waitForValue(PROBE_FETCH, (v) => v.startsWith('ok'), BOOT_MS);
    expect(page.match[1].trim()).toBe(`ok upstream sees ${lease}`);
    await appvm1.waitForValue(probePing(UPSTREAM_ADDR), (v) => v === 'ok', STEP_MS);
    stage = 2;
  }, BOOT_MS + STEP_MS);

  it('appvm2 cannot reach appvm1 through the netvm (client isolation)', async () => {
    requireStage(2);
    // appvm2's own path through the netvm works...
    const up = await appvm2.waitForValue(probePing(UPSTREAM_ADDR), (v) => v === 'ok', BOOT_MS);
    // ...yet, with appvm1 answering (it just fetched), none of the next rounds reach it.
    let from = up.end;
    for (let i = 0; i < BLOCKED_ROUNDS; i++) {
      const peer = await appvm2.waitFor(probePing(LINK_1.addr), STEP_MS, from);
      expect(peer.match[0]).toMatch(/ fail$/);
      from = peer.end;
    }
    stage = 3;
  }, BOOT_MS + BLOCKED_ROUNDS * STEP_MS);

  it('with --allow-client-to-client on the netvm, appvm2 reaches appvm1', async () => {
    requireStage(3);
    // The app VMs keep running and probing while their provider reboots.
    await netvm.stop();
    const from1 = appvm1.console.length;
    const from2 = appvm2.console.length;
    netvm = bootNetvm('netvm-open', ['guestnet.opt=allow-client-to-client']);
    await netvm.waitFor(CONFIGURED, BOOT_MS);
    await appvm2.waitForValue(probePing(LINK_1.addr), (v) => v === 'ok', STEP_MS, from2);
    // Masquerade is still on: appvm1 reaches the upstream host again.
    const page = await appvm1.waitForValue(PROBE_FETCH, (v) => v.startsWith('ok'), STEP_MS, from1);
    expect(page.match[1].trim()).toMatch(/^ok upstream sees 203\.0\.113\.\d+$/);
  }, BOOT_MS + 2 * STEP_MS);
});
