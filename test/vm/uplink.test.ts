/**
 * Real-VM test of the netvm as a complete network provider: its uplink.
 *
 * The netvm gets a hardware NIC on the test namespace's "upstream" bridge,
 * where a DHCP server and a web server live on 203.0.113.1/24 with no route
 * back to 100.64.0.0/16 (upstream.ts). Two app VMs hang off the netvm on
 * inter-guest links. Through the guests' hvc0 shells:
 *   - the netvm has its netfilter modules loaded, a lease on the hardware NIC
 *     and guestnet's table in place;
 *   - appvm1 fetches a page from 203.0.113.1 and pings it: only the netvm's
 *     masquerade can bring the answers back, and the page names the lease;
 *   - appvm2, hostile, forges its source (a foreign address, appvm1's) and
 *     sends a router advertisement (test/attack/ra.c, handed to it on a disk
 *     of its own: the images have no packet crafter): nothing of it reaches
 *     appvm1 or the upstream host, counted on the host side's bridges, and
 *     the netvm, which received the RA, takes no route, address or MTU from it;
 *   - appvm1 fetches the same page by name: the lease named the upstream's
 *     resolver, the netvm's DHCP hook wrote it to resolv.conf, guestnet dns
 *     (as nobody, no capability) forwards the app VM's query to it;
 *   - appvm2 cannot ping appvm1 (client isolation); after
 *     `guestnet apply --allow-client-to-client` on the netvm it can, and
 *     after a plain `guestnet apply` it cannot again;
 *   - a second hardware NIC hot-plugged into the netvm (QMP) gets its own
 *     lease and route; with the first one unplugged, appvm1's traffic leaves
 *     by the second, masqueraded to its lease, without a guestnet re-apply.
 * Three boots in all, at once.
 *
 * Needs root, qemu-system-x86_64 and build/vms. Serial and virtio console
 * logs and the servers' logs go to build/vm-test/uplink/.
 */
import { execFileSync } from 'child_process';
import { mkdirSync, rmSync } from 'fs';
import { join } from 'path';
import { checkHost, checkImages } from './checks';
import { VirtioConsole } from './console';
import { HostSide, ROOT, VMS, clientMac, providerMac, type Link } from './fixture';
import { FETCH, FETCH_BY_NAME, ifaceWith, leaseOn, pingOnce, stopAll, until } from './guest';
import { BridgeProbe } from './probe';
import { Qmp } from './qmp';
import { Nic, Vm } from './qemu';
import { UPSTREAM_ADDR, Upstream, hasRouteTo } from './upstream';

const LOGS = join(ROOT, 'build/vm-test/uplink');

// Generous for TCG on a loaded 2-core machine; three VMs boot at once.
const BOOT_MS = 240_000;
const STEP_MS = 120_000;

const LINK_1 = { bridge: 'gn-br-1', client: 'gn-app-1', provider: 'gn-net-1', pp: '01:02', addr: '100.64.1.2' };
const LINK_2 = { bridge: 'gn-br-2', client: 'gn-app-2', provider: 'gn-net-2', pp: '01:03', addr: '100.64.1.3' };
// Outside 0A:B3:EC: hardware NICs to guestnet. The second is hot-plugged.
const HW = { id: 'hw0', mac: '52:54:00:c0:ff:ee', tap: 'gn-hw0' };
const HW2 = { id: 'hw1', mac: '52:54:00:c0:ff:ef', tap: 'gn-hw1' };
// Not the attacker's: a documentation address (RFC 5737).
const FORGED = '198.51.100.7';
// The hostile RA's prefix and MTU (RFC 3849's documentation prefix).
const RA_PREFIX = '2001:db8:bad::';
const RA_MTU = 1280;
// appvm2's second disk: a tar of the RA sender, built for the test.
const HOSTILE_DISK = join(LOGS, 'hostile.tar');
const clientNic = (l: Link): Nic => ({ id: 'net0', mac: clientMac(l.pp), tap: l.client });
const providerNic = (l: typeof LINK_1, id: string): Nic => ({ id, mac: providerMac(l.pp), tap: l.provider });

const CONFIGURED = /GUESTNET-TEST: configured/;
const NETFILTER_MODULES = ['nf_tables', 'nft_chain_nat', 'nft_masq', 'nf_nat', 'nf_conntrack', 'nft_fib_inet', 'nft_ct', 'nft_connlimit'];
/** Three echo requests within 4 s: exit 0 if any is answered. */
const pingThrice = (addr: string) => `ping -c 3 -w 4 ${addr}`;

/** The part of `guestnet status --json` this test reads: the table's rules as `chain: rule` lines. */
interface UplinkStatus {
  drifted: boolean;
  present: boolean;
  expected: string[];
}

describe('netvm uplink in VMs: DHCP on the hardware NIC, masquerade, client isolation', () => {
  let host: HostSide | undefined;
  let upstream: Upstream | undefined;
  const consoles: Record<string, VirtioConsole> = {};
  let qmp: Qmp | undefined;
  let lease = '';
  // Each step builds on the previous one; fail fast instead of timing out.
  let stage = 0;
  const requireStage = (n: number) => {
    if (stage < n) throw new Error('not run: an earlier step of this test failed');
  };

  const boot = (name: string, image: string, nics: Nic[], more: { qmpSocket?: string; disks?: string[] } = {}): Vm =>
    host!.boot(image, { name, nics, logFile: join(LOGS, `${name}.log`), consoleSocket: host!.socket(`${name}.hvc0`), ...more });
  const attach = async (vm: Vm) => {
    const name = vm.opts.name;
    consoles[name] = await VirtioConsole.connect(name, vm.opts.consoleSocket!, join(LOGS, `${name}.hvc0.log`));
  };

  beforeAll(async () => {
    checkImages(VMS);
    checkHost();
    rmSync(LOGS, { recursive: true, force: true });
    mkdirSync(LOGS, { recursive: true });
    execFileSync('gcc', ['-static', '-O2', '-o', join(LOGS, 'ra'), join(ROOT, 'test/attack/ra.c')]);
    execFileSync('tar', ['-cf', HOSTILE_DISK, '-C', LOGS, 'ra']);
    host = HostSide.create([LINK_1, LINK_2]);
    upstream = new Upstream(host.ns, LOGS, 'gn-br-up', [HW.tap, HW2.tap]);
    await upstream.start();
  }, 30_000);

  afterAll(() => stopAll(host, upstream, consoles, qmp), 30_000);

  it('the netvm loads the netfilter modules, leases its hardware NIC and installs the table', async () => {
    // The upstream cannot answer a client address: only masquerade can.
    expect(hasRouteTo(host!.ns, LINK_1.addr)).toBe(false);

    const netvm = boot('netvm', 'netvm', [providerNic(LINK_1, 'net1'), providerNic(LINK_2, 'net2'), HW], { qmpSocket: host!.socket('netvm.qmp') });
    const apps = [boot('appvm1', 'appvm', [clientNic(LINK_1)]), boot('appvm2', 'appvm', [clientNic(LINK_2)], { disks: [HOSTILE_DISK] })];
    await Promise.all([netvm, ...apps].map(attach));
    qmp = await Qmp.connect(netvm.opts.qmpSocket!);
    await Promise.all([netvm, ...apps].map((vm) => vm.waitFor(CONFIGURED, BOOT_MS)));
    const net = consoles.netvm;

    const modules = (await net.check("cut -d ' ' -f 1 /proc/modules")).split('\n');
    expect(modules).toEqual(expect.arrayContaining(NETFILTER_MODULES));

    const hwIf = await ifaceWith(net, HW.mac);
    lease = await leaseOn(net, hwIf);
    expect(await until(net, 'ip -4 route show default | grep .')).toContain(`default via ${UPSTREAM_ADDR} dev ${hwIf}`);

    const uplink = (JSON.parse(await net.check('guestnet status --json')) as { uplink: UplinkStatus }).uplink;
    expect(uplink).toMatchObject({ drifted: false, present: true });
    expect(uplink.expected).toEqual(expect.arrayContaining([expect.stringMatching(/^prerouting: .*fib saddr/), expect.stringMatching(/^postrouting: .*masquerade$/)]));
    stage = 1;
  }, BOOT_MS + 3 * STEP_MS);

  it('appvm1 fetches a page from the upstream host and pings it, masqueraded to the lease', async () => {
    requireStage(1);
    const page = await until(consoles.appvm1, FETCH);
    expect(page.trim()).toBe(`upstream sees ${lease}`);
    await consoles.appvm1.check(pingOnce(UPSTREAM_ADDR));
    stage = 2;
  }, 2 * STEP_MS);

  it('appvm1 fetches the page by name, resolved through the netvm\'s guestnet dns', async () => {
    requireStage(2);
    const net = consoles.netvm;
    expect(await until(net, `grep -q ${UPSTREAM_ADDR} /etc/resolv.conf && cat /etc/resolv.conf`)).toBe(`nameserver ${UPSTREAM_ADDR}\n`);
    const state = JSON.parse(await until(net, `grep -q '"${UPSTREAM_ADDR}"' /run/guestnet/dns/state.json && cat /run/guestnet/dns/state.json`)) as { pid: number };
    const creds = await net.check(`grep -E '^(Uid|CapEff):' /proc/${state.pid}/status`);
    expect(creds).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    expect(creds).toMatch(/^CapEff:\s+0+$/m);
    expect((await consoles.appvm1.check('cat /etc/resolv.conf'))).toContain('nameserver 169.254.0.1');
    expect((await until(consoles.appvm1, FETCH_BY_NAME)).trim()).toBe(`upstream sees ${lease}`);
  }, 2 * STEP_MS);

  it('appvm2 reaches the upstream host but not appvm1 (client isolation)', async () => {
    requireStage(2);
    await until(consoles.appvm2, pingOnce(UPSTREAM_ADDR));
    await consoles.netvm.check(pingOnce(LINK_1.addr)); // appvm1 is there and answers
    const r = await consoles.appvm2.run(pingThrice(LINK_1.addr));
    expect(r.out).toContain('3 packets transmitted, 0 packets received');
    expect(r.status).not.toBe(0);
    stage = 3;
  }, 3 * STEP_MS);

  it('a hostile appvm2 forging its source or sending an RA reaches neither appvm1, the upstream host nor the netvm\'s routes', async () => {
    requireStage(3);
    const probe = new BridgeProbe(host!);
    const marked = 'ip length 1139'; // 1111 bytes of ping data: these pings and no others
    const ra = 'icmpv6 type nd-router-advert';
    const counters = {
      left: probe.count(`iifname "${LINK_2.client}" ${marked}`), // what left appvm2
      toApp1: probe.count(`iifname "${LINK_1.provider}" ${marked}`), // the netvm's frames to appvm1
      upstream: probe.count(`iifname "${HW.tap}" ${marked}`), // the netvm's frames upstream
      raToNetvm: probe.count(`oifname "${LINK_2.provider}" ${ra}`, 'tx'), // handed to the netvm's NIC
      raElsewhere: probe.count(`iifname != "${LINK_2.client}" ${ra}`), // any RA from any other port
    };
    const app2 = consoles.appvm2;
    const net = consoles.netvm;
    const eth = await ifaceWith(app2, clientMac(LINK_2.pp));
    const victim = await ifaceWith(net, providerMac(LINK_2.pp));
    // The attacker's own kernel, set up to forge: the watcher stopped, foreign
    // addresses on its NIC, ARP asked from its real address so frames leave.
    await app2.check(['s6-svc -d /run/service/guestnet', 's6-svwait -D /run/service/guestnet', `echo 2 > /proc/sys/net/ipv4/conf/${eth}/arp_announce`].join(' && '));
    const forge = (src: string, dsts: string[]): string =>
      [`ip addr add ${src}/32 dev ${eth}`, ...dsts.map((d) => `ping -c 2 -W 1 -s 1111 -I ${src} ${d}`), `ip addr del ${src}/32 dev ${eth}`].join('; ');
    try {
      await app2.run(forge(FORGED, [LINK_1.addr, UPSTREAM_ADDR]));
      await app2.run(forge(LINK_1.addr, [UPSTREAM_ADDR])); // appvm1's address: not local while pinging appvm1 above
      await app2.check(`tar -xf /dev/vdb -C /run && /run/ra ${eth} ${RA_PREFIX} ${RA_MTU}`);
    } finally {
      await app2.check('s6-svc -u /run/service/guestnet && s6-svwait -U /run/service/guestnet');
    }
    // Its own address crosses, and the answer comes after the RA on the same NIC: the netvm has had it.
    await app2.check(`ping -c 1 -W 2 -s 1111 ${UPSTREAM_ADDR}`);
    expect(Object.fromEntries(Object.entries(counters).map(([k, c]) => [k, probe.read(c)]))).toEqual({ left: 7, toApp1: 0, upstream: 1, raToNetvm: 1, raElsewhere: 0 });
    // No default route, no address from the prefix, no MTU from it: the netvm's IPv6 is not the client's to steer.
    expect(await net.check(`ip -6 route show default; ip -6 addr show scope global; ip -6 route show ${RA_PREFIX}/64`)).toBe('');
    expect(await net.check(`cat /proc/sys/net/ipv6/conf/${victim}/mtu`)).toBe('1500\n');
    for (const l of [LINK_1, LINK_2]) {
      const ifname = await ifaceWith(net, providerMac(l.pp));
      expect(await net.check(`cat /proc/sys/net/ipv6/conf/${ifname}/accept_ra /proc/sys/net/ipv6/conf/${ifname}/autoconf`)).toBe('0\n0\n');
    }
  }, 3 * STEP_MS);

  it('with --allow-client-to-client on the netvm appvm2 reaches appvm1, and not again without it', async () => {
    requireStage(3);
    const net = consoles.netvm;
    // Policy by hand, as an administrator would: stop the watcher, re-apply.
    await net.check('s6-svc -d /run/service/guestnet && s6-svwait -D /run/service/guestnet');
    await net.check('guestnet apply --allow-client-to-client');
    await until(consoles.appvm2, pingOnce(LINK_1.addr));
    // Masquerade stays on with it.
    expect((await consoles.appvm1.check(FETCH)).trim()).toBe(`upstream sees ${lease}`);

    await net.check('guestnet apply');
    const r = await consoles.appvm2.run(pingThrice(LINK_1.addr));
    expect(r.out).toContain('3 packets transmitted, 0 packets received');
    await net.check('s6-svc -u /run/service/guestnet && s6-svwait -U /run/service/guestnet');
    stage = 4;
  }, 4 * STEP_MS);

  it('a hardware NIC plugged in later gets its own lease; with the first unplugged, traffic leaves by it', async () => {
    requireStage(4);
    const net = consoles.netvm;
    await qmp!.execute('netdev_add', { type: 'tap', id: HW2.id, ifname: HW2.tap, script: 'no', downscript: 'no' });
    await qmp!.execute('device_add', { driver: 'virtio-net-pci', id: `dev-${HW2.id}`, netdev: HW2.id, mac: HW2.mac });
    const [hwIf, hwIf2] = [await ifaceWith(net, HW.mac), await ifaceWith(net, HW2.mac)];
    const lease2 = await leaseOn(net, hwIf2);
    expect(lease2).not.toBe(lease);
    // One default route per NIC: the second does not replace the first.
    const both = await until(net, `ip -4 route show default | grep -q ${hwIf2} && ip -4 route show default`);
    expect(both).toContain(`default via ${UPSTREAM_ADDR} dev ${hwIf} `);

    await qmp!.execute('device_del', { id: `dev-${HW.id}` });
    await qmp!.waitEvent('DEVICE_DELETED', (d) => d.device === `dev-${HW.id}`, STEP_MS);
    const left = await until(net, `! ip -4 route show default | grep -q "dev ${hwIf} " && ip -4 route show default`);
    expect(left.trim().split('\n')).toEqual([expect.stringContaining(`default via ${UPSTREAM_ADDR} dev ${hwIf2} `)]);
    // Matched by address, not by interface: no re-apply, yet the page names the new lease.
    expect((await until(consoles.appvm1, FETCH)).trim()).toBe(`upstream sees ${lease2}`);
    await consoles.appvm1.check(pingOnce(UPSTREAM_ADDR));
  }, 4 * STEP_MS);
});
