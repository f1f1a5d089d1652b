import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

// Shared by the benchmark's parts: the links a workload creates, what the
// convention makes of them, the floor's `ip -batch` lines, statistics, /proc
// readings, and namespaces that are always deleted again.

export const ROOT = resolve(__dirname, '..');
export const GUESTNET = resolve(ROOT, 'dist/guestnet');
export const REFERENCE = resolve(ROOT, 'bench/reference.sh');
export const RESULTS_DIR = resolve(ROOT, 'bench/results');
export const GATEWAY = '169.254.0.1';

export type Role = 'client' | 'provider';

/** One inter-guest link: `name` in the namespace under test, `peer` in the peer namespace. */
export interface BenchLink {
  readonly name: string;
  readonly peer: string;
  readonly mac: string;
  readonly role: Role;
  /** 100.64.PP.QQ */
  readonly client: string;
  /** The client routes' metric (SPEC §4; the same rule guestnet and reference.sh use). */
  readonly metric: number;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

export function benchLink(name: string, peer: string, pp: number, qq: number, role: Role): BenchLink {
  return {
    name,
    peer,
    mac: `0a:b3:ec:${role === 'provider' ? '80' : '00'}:${hex2(pp)}:${hex2(qq)}`,
    role,
    client: `100.64.${pp}.${qq}`,
    metric: role === 'client' ? 1024 + pp * 256 + qq : 0,
  };
}

/** N links, alternately client and provider, PP:QQ from 01:00 upwards. */
export function bootLinks(n: number, peerTag: string): BenchLink[] {
  return Array.from({ length: n }, (_, i) =>
    benchLink(`e${i}`, `${peerTag}${i}`, 1 + (i >> 8), i & 0xff, i % 2 === 0 ? 'client' : 'provider'),
  );
}

/** `ip -batch` line creating a link (down, unconfigured) with its peer in `peerNs`. */
export function addLine(l: BenchLink, peerNs: string): string {
  return `link add ${l.name} address ${l.mac} type veth peer name ${l.peer} netns ${peerNs}`;
}

/** The floor: precomputed iproute2 commands for SPEC §3 (forwarding is a file write, not ip). */
export function floorLines(l: BenchLink): string[] {
  const steps = [`link set dev ${l.name} up`];
  if (l.role === 'client') {
    steps.push(
      `addr add ${l.client}/32 dev ${l.name}`,
      `route add ${GATEWAY}/32 dev ${l.name} metric ${l.metric}`,
      `route add default via ${GATEWAY} dev ${l.name} metric ${l.metric}`,
    );
  } else {
    steps.push(`addr add ${GATEWAY}/32 dev ${l.name}`, `route add ${l.client}/32 dev ${l.name}`);
  }
  return steps;
}

/** Runs a setup command that must succeed; returns stdout. */
export function sh(cmd: string, args: readonly string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 60_000, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}

const t0 = Date.now();

export function log(msg: string): void {
  process.stderr.write(`bench: [${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const firstLine = (text: string): string => text.split('\n').find((l) => l.trim())?.trim() ?? '';
export const lastLine = (text: string): string => text.split('\n').filter((l) => l.trim()).pop()?.trim() ?? '';

// ---- /proc -------------------------------------------------------------------

/** Clock ticks a second, the unit of /proc's CPU times. */
export const clockTicks = (): number => Number(sh('getconf', ['CLK_TCK']).trim()) || 100;

/** CPU ticks of a process and its reaped children: utime stime cutime cstime, stat(5) fields 14-17. */
export function cpuTicks(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number); // f[0] is field 3
  return f[11] + f[12] + f[13] + f[14];
}

// ---- namespaces ------------------------------------------------------------

const created = new Set<string>();
let seq = 0;

/** A fresh namespace with lo up; deleted by `deleteNamespaces` (also on failure or a signal). */
export function addNamespace(tag: string): string {
  const name = `gnbench-${process.pid}-${tag}${seq++}`;
  sh('ip', ['netns', 'add', name]);
  created.add(name);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export function deleteNamespace(name: string): void {
  spawnSync('ip', ['netns', 'del', name]);
  created.delete(name);
}

export function deleteNamespaces(): void {
  for (const name of [...created]) deleteNamespace(name);
}

/** Number of links in a namespace, lo included. */
export function linkCount(ns: string): number {
  return sh('ip', ['-n', ns, '-o', 'link', 'show']).split('\n').filter(Boolean).length;
}

// ---- statistics --------------------------------------------------------------

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Rotates a list by k, so that interleaved programs take turns at going first. */
export function rotate<T>(list: readonly T[], k: number): T[] {
  const n = list.length;
  return n === 0 ? [] : list.map((_, i) => list[(i + k) % n]);
}
