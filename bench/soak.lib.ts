import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// Helpers for bench/soak.ts: namespaces, a kernel-side clock (`ip -ts
// monitor`), process samples from /proc, and statistics.

export const ROOT = resolve(__dirname, '..');
export const GUESTNET = resolve(ROOT, 'dist/guestnet');
export const BUN = resolve(ROOT, 'node_modules/.bin/bun');

export class Ns {
  readonly name: string;
  constructor(tag: string, seq: number) {
    this.name = `gn-soak-${tag}-${process.pid}-${seq}`;
    spawnSync('ip', ['netns', 'add', this.name], { stdio: 'inherit' });
    this.sh('ip link set lo up');
  }
  sh(script: string): string {
    const r = spawnSync('ip', ['netns', 'exec', this.name, 'sh', '-ec', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`in ${this.name}: ${script.slice(0, 200)}: ${r.stderr}`);
    return r.stdout;
  }
  spawn(cmd: string, args: readonly string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  delete(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

export interface KernelEvent {
  readonly kind: 'link' | 'addr';
  readonly deleted: boolean;
  readonly ifname: string;
  /** Seconds, from ip's timestamp (only differences mean anything). */
  readonly t: number;
}

/** Parses one line of `ip -ts -o monitor link address`. */
export function parseMonitorLine(line: string): KernelEvent | undefined {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)\]\s+(Deleted\s+)?\d+:\s+([^\s:@]+)/.exec(line);
  if (!m) return undefined;
  const t = Date.parse(m[1]) / 1000 + Number(`0.${m[2]}`);
  return { kind: /\sinet6?\s/.test(line) ? 'addr' : 'link', deleted: m[3] !== undefined, ifname: m[4], t };
}

/** Kernel link and address events in a namespace, stamped by `ip` as they arrive. */
export class Monitor {
  private readonly child: ChildProcess;
  private waiters: { match: (e: KernelEvent) => boolean; resolve: (e: KernelEvent) => void }[] = [];

  constructor(ns: Ns) {
    this.child = ns.spawn('ip', ['-ts', '-o', 'monitor', 'link', 'address']);
    let rest = '';
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.dispatch(parseMonitorLine(line));
    });
  }

  private dispatch(e: KernelEvent | undefined): void {
    if (!e) return;
    const hit = this.waiters.filter((w) => w.match(e));
    this.waiters = this.waiters.filter((w) => !w.match(e));
    for (const w of hit) w.resolve(e);
  }

  /** The next event that matches, from now on. */
  next(match: (e: KernelEvent) => boolean, timeoutMs = 10_000): Promise<KernelEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a kernel event')), timeoutMs);
      this.waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  /** Waits until the monitor is subscribed, with a probe link it sees come and go. */
  async ready(ns: Ns): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const seen = this.next((e) => e.ifname === 'probe0', 200).then(() => true, () => false);
      ns.sh('ip link add probe0 type veth peer name probe1 && ip link del probe0');
      if (await seen) return;
    }
    throw new Error('ip monitor never saw the probe link');
  }

  stop(): void {
    this.child.kill();
  }
}

/** A directory whose `ip` is busybox, for the busybox-only configuration. */
export function busyboxIp(): { ip: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gn-soak-bb-'));
  const bb = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(bb, join(dir, 'ip'));
  return { ip: join(dir, 'ip'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** VmRSS of a process, in KiB. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** utime + stime of a process (and its reaped children), in clock ticks (1/100 s). */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export const CLOCK_TICKS_PER_SECOND = 100;

export interface Stats {
  readonly n: number;
  readonly median: number;
  readonly p90: number;
  readonly worst: number;
}

export function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { n: s.length, median: at(0.5), p90: at(0.9), worst: s[s.length - 1] };
}

export const ms = (x: number): string => `${x.toFixed(2)} ms`;

export const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
