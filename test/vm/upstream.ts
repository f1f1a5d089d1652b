// The world beyond the netvm, inside the test's namespace: a bridge holding
// 203.0.113.1/24 with taps for the netvm's hardware NICs, a DHCP server
// (busybox udhcpd) leasing 203.0.113.100-150 with itself as router and DNS
// server, a resolver (dnsmasq) that knows the name www.upstream.test, and a
// web server (busybox httpd) whose CGI page names the address each request
// came from. Nothing here routes to 100.64.0.0/16, so a client's packet can only
// be answered if the netvm masquerades it.
import { ChildProcess, spawn } from 'child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Netns } from './netns';

export const UPSTREAM_ADDR = '203.0.113.1';
export const LEASE_FIRST = 100;
export const LEASE_LAST = 150;
/** The page that answers with the address the request came from. */
export const WHOAMI_URL = `http://${UPSTREAM_ADDR}/cgi-bin/whoami`;
/** The same page by name: only the netvm's resolver (guestnet dns) can tell an app VM where it is. */
export const WHOAMI_NAME = 'www.upstream.test';
export const WHOAMI_BY_NAME = `http://${WHOAMI_NAME}/cgi-bin/whoami`;

const WHOAMI_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "upstream sees $REMOTE_ADDR"
`;

export class Upstream {
  private readonly procs: ChildProcess[] = [];

  /** Builds the bridge and taps in `ns`; `dir` holds configs, leases and logs. */
  constructor(private readonly ns: Netns, private readonly dir: string, readonly bridge: string, taps: string[]) {
    ns.addBridge(bridge);
    for (const tap of taps) ns.addTap(tap, bridge);
    ns.ip('addr', 'add', `${UPSTREAM_ADDR}/24`, 'dev', bridge);
    ns.ip('link', 'set', 'lo', 'up'); // for the self-check's local fetch
  }

  /** Starts both servers and checks the page answers inside the namespace. */
  async start(): Promise<void> {
    const conf = join(this.dir, 'udhcpd.conf');
    writeFileSync(conf, [
      `interface ${this.bridge}`,
      `start 203.0.113.${LEASE_FIRST}`,
      `end 203.0.113.${LEASE_LAST}`,
      `lease_file ${join(this.dir, 'udhcpd.leases')}`,
      `pidfile ${join(this.dir, 'udhcpd.pid')}`,
      'option subnet 255.255.255.0',
      `option router ${UPSTREAM_ADDR}`,
      `option dns ${UPSTREAM_ADDR}`,
      'option lease 600',
    ].join('\n') + '\n');
    const www = join(this.dir, 'www');
    mkdirSync(join(www, 'cgi-bin'), { recursive: true });
    writeFileSync(join(www, 'cgi-bin/whoami'), WHOAMI_CGI, { mode: 0o755 });

    this.run('udhcpd', ['-f', conf]);
    this.run('httpd', ['-f', '-p', `${UPSTREAM_ADDR}:80`, '-h', www]);
    this.spawn('dnsmasq', ['dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--local=/upstream.test/', `--host-record=${WHOAMI_NAME},${UPSTREAM_ADDR}`,
      `--listen-address=${UPSTREAM_ADDR}`, '--bind-interfaces', '--user=root', `--pid-file=${join(this.dir, 'dnsmasq.pid')}`]);
    await this.selfCheck();
  }

  private run(applet: string, args: string[]): void {
    this.spawn(applet, ['busybox', applet, ...args]);
  }

  private spawn(name: string, argv: string[]): void {
    const p = spawn('ip', ['netns', 'exec', this.ns.name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(this.dir, `${name}.log`));
    p.stdout!.pipe(log);
    p.stderr!.pipe(log);
    this.procs.push(p);
  }

  private async selfCheck(): Promise<void> {
    let last = '';
    for (let i = 0; i < 50; i++) {
      const dead = this.procs.find((p) => p.exitCode !== null || p.signalCode !== null);
      if (dead) throw new Error(`upstream: ${dead.spawnargs.slice(4).join(' ')} exited; logs in ${this.dir}`);
      try {
        last = this.ns.exec('busybox', 'timeout', '2', 'busybox', 'wget', '-q', '-O', '-', WHOAMI_URL);
        if (last.includes(`upstream sees ${UPSTREAM_ADDR}`)) return;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`upstream: ${WHOAMI_URL} does not answer inside the namespace: ${last}`);
  }

  /** Idempotent; never throws, as it runs on failure paths. */
  stop(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}

export function hasRouteTo(ns: Netns, addr: string): boolean {
  try {
    ns.ip('route', 'get', addr);
    return true;
  } catch {
    return false;
  }
}
