import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// Throwaway network namespaces for tests. Every namespace a test makes is
// deleted in afterAll/afterEach, also when the test fails.

export const GUESTNET = resolve(__dirname, '../../dist/guestnet');

let counter = 0;

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class Netns {
  readonly name: string;

  /** `lo: 'down'` leaves the namespace as new: with no address, the kernel has no route table yet. */
  constructor(tag: string, opts: { lo?: 'up' | 'down' } = {}) {
    this.name = `gn-${tag}-${process.pid}-${counter++}`;
    execFileSync('ip', ['netns', 'add', this.name]);
    if (opts.lo !== 'down') this.sh('ip link set lo up');
  }

  /** Runs a program inside the namespace; never throws on a non-zero exit. */
  run(cmd: string, args: readonly string[], input?: string): Ran {
    const r = spawnSync('ip', ['netns', 'exec', this.name, cmd, ...args], { encoding: 'utf8', input, timeout: 60_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** Runs a command that must succeed (setup steps), through sh for brevity. */
  sh(script: string): string {
    const r = this.run('sh', ['-ec', script]);
    if (r.code !== 0) throw new Error(`in ${this.name}: ${script}: ${r.stderr}`);
    return r.stdout;
  }

  guestnet(args: readonly string[]): Ran {
    return this.run(GUESTNET, args);
  }

  /** Starts guestnet without waiting, for concurrency tests. */
  guestnetAsync(args: readonly string[]): Promise<Ran> {
    return new Promise((res) => {
      const child = spawn('ip', ['netns', 'exec', this.name, GUESTNET, ...args]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    });
  }

  addrs(ifname: string): string[] {
    const out = JSON.parse(this.sh(`ip -j -4 addr show dev ${ifname}`)) as { addr_info: { local: string; prefixlen: number }[] }[];
    return out.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).sort();
  }

  /** The link's group as `ip -j -d link` prints it: "default" for 0, else its number. No shell: any name. */
  group(ifname: string): string {
    return (JSON.parse(this.run('ip', ['-j', '-d', 'link', 'show', 'dev', ifname]).stdout) as { group: string }[])[0].group;
  }

  /** A value under /proc/sys, e.g. `net/ipv4/conf/p0/rp_filter`. No shell: any name. */
  sysctl(path: string): string {
    const r = this.run('cat', [`/proc/sys/${path}`]);
    if (r.code !== 0) throw new Error(`in ${this.name}: cat /proc/sys/${path}: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** Main-table IPv4 routes as `dst[ via gw] dev X metric M`, sorted. */
  routes(): string[] {
    const out = JSON.parse(this.sh('ip -j -4 route show table main')) as {
      dst: string;
      gateway?: string;
      dev: string;
      metric?: number;
      protocol?: string;
    }[];
    return out
      .filter((r) => r.protocol !== 'kernel')
      .map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev} metric ${r.metric ?? 0}`)
      .sort();
  }

  /** One echo reply within 3 s: a probe a second, so a first packet lost to a cold path (ARP, conntrack) is not a failure. */
  ping(address: string): boolean {
    return this.run('ping', ['-c', '1', '-w', '3', address]).code === 0;
  }

  delete(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

/** A veth pair with one end in each namespace (or both in one), left down for guestnet to bring up. */
export function veth(a: Netns, aName: string, aMac: string, b: Netns, bName: string, bMac: string): void {
  const where = a === b ? '' : ` netns ${b.name}`;
  a.sh(`ip link add ${aName} address ${aMac} type veth peer name ${bName} address ${bMac}${where}`);
}

/** A directory whose `ip` is busybox's applet, to run guestnet with `--ip-binary`. */
export function busyboxIpDir(): { dir: string; ip: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gn-bb-'));
  const bb = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
  symlinkSync(bb, join(dir, 'ip'));
  return { dir, ip: join(dir, 'ip'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
