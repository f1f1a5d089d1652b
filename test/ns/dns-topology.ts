import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns } from '../helpers/netns';
import { WatchProcess } from './watch-process';

// The provider VM (netvm) between a client and the LAN, as namespaces:
//   client 100.64.1.2 ── pl (169.254.0.1) netvm ul (203.0.113.1) ── upstream host 203.0.113.2, .3
// Two dnsmasq on the upstream host are the netvm's resolvers; each answers
// www.example.test differently, so a test sees which one was asked, and
// NXDOMAIN for other names in example.test.

export const GATEWAY = '169.254.0.1';
export const CLIENT = '100.64.1.2';
export const UPLINK = '203.0.113.1';
/** The upstream host's two resolvers and what each says www.example.test is. */
export const RESOLVERS = { first: { address: '203.0.113.2', www: '198.51.100.7' }, second: { address: '203.0.113.3', www: '198.51.100.8' } } as const;
/** An address on the LAN that answers nothing (no host has it). */
export const DEAD = '203.0.113.99';
/** A TXT record of ~1,500 bytes: too big for a 512-byte UDP answer. */
export const BIG_TXT = 'big.example.test';

export class DnsTopology {
  readonly netvm = new Netns('dnsvm');
  readonly client = new Netns('dnscl');
  readonly lan = new Netns('dnsup');
  // Readable by the user the resolver drops to (it reads resolv.conf and writes its state there).
  readonly dir = mkdtempSync(join(tmpdir(), 'gn-dns-'));
  readonly resolvConf = join(this.dir, 'resolv.conf');
  private readonly dnsmasq: number[] = [];

  constructor() {
    chmodSync(this.dir, 0o755);
    this.netvm.sh(`ip link add pl type veth peer name eth0 netns ${this.client.name}`);
    this.netvm.sh(`ip link add ul type veth peer name eth0 netns ${this.lan.name}`);
    this.netvm.sh(`ip addr add ${GATEWAY}/32 dev pl; ip link set pl up; ip route add ${CLIENT}/32 dev pl`);
    this.netvm.sh(`ip addr add ${UPLINK}/24 dev ul; ip link set ul up`);
    this.client.sh(`ip addr add ${CLIENT}/32 dev eth0; ip link set eth0 up; ip route add ${GATEWAY}/32 dev eth0; ip route add default via ${GATEWAY}`);
    this.lan.sh(`ip addr add ${RESOLVERS.first.address}/24 dev eth0; ip addr add ${RESOLVERS.second.address}/24 dev eth0; ip link set eth0 up`);
    // A LAN host that routes the gateway address and the clients' range through the netvm.
    this.lan.sh(`ip route add ${GATEWAY}/32 via ${UPLINK}; ip route add 100.64.0.0/16 via ${UPLINK}`);
    for (const r of Object.values(RESOLVERS)) this.startDnsmasq(r.address, r.www);
    this.writeResolvConf(RESOLVERS.first.address);
  }

  private startDnsmasq(address: string, www: string): void {
    const hosts = join(this.dir, `hosts-${address}`);
    const pidFile = join(this.dir, `dnsmasq-${address}.pid`);
    writeFileSync(hosts, `${www} www.example.test\n`);
    const txt = ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => c.repeat(250)).join(',');
    this.lan.sh(
      `dnsmasq --no-resolv --no-hosts --addn-hosts=${hosts} --local=/example.test/ --listen-address=${address} --bind-interfaces ` +
        `--txt-record=${BIG_TXT},${txt} --pid-file=${pidFile} --user=root`,
    );
    this.dnsmasq.push(Number(this.lan.sh(`cat ${pidFile}`).trim()));
  }

  /** Rewrites resolv.conf in place (truncate and write), as some DHCP hooks do. */
  writeResolvConf(...servers: string[]): void {
    writeFileSync(this.resolvConf, servers.map((s) => `nameserver ${s}\n`).join(''));
  }

  /** Replaces resolv.conf by rename, as udhcpc's and most hooks do. */
  renameResolvConf(...servers: string[]): void {
    const tmp = `${this.resolvConf}.new`;
    writeFileSync(tmp, servers.map((s) => `nameserver ${s}\n`).join(''));
    this.netvm.sh(`mv ${tmp} ${this.resolvConf}`);
  }

  /** `guestnet dns` in the netvm, following this topology's resolv.conf. */
  startDns(args: readonly string[] = [], stateDir = 'state'): WatchProcess {
    return new WatchProcess(this.netvm, ['--resolv-conf', this.resolvConf, '--state-dir', join(this.dir, stateDir), ...args], process.env, 'dns');
  }

  /** dig from `ns` (the client unless told), one try: its output. */
  dig(args: readonly string[], ns: Netns = this.client): string {
    return ns.run('dig', ['+tries=1', '+time=3', `@${GATEWAY}`, ...args]).stdout;
  }

  delete(): void {
    for (const pid of this.dnsmasq) {
      try {
        process.kill(pid);
      } catch {
        // already gone
      }
    }
    for (const ns of [this.netvm, this.client, this.lan]) ns.delete();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** dig's status line: NOERROR, NXDOMAIN, SERVFAIL, or 'no answer'. */
export function status(digOutput: string): string {
  return /status: (\w+)/.exec(digOutput)?.[1] ?? 'no answer';
}
