import type { Subprocess } from 'bun';
import { GATEWAY, REFERENCE, type BenchLink } from './common';

// The long-running helpers the workloads drive: the in-namespace timer
// (runner.ts), `ip monitor` observers, and `guestnet watch`. Every process
// started here is tracked by PID so it can be stopped on any exit.

const started = new Set<Subprocess>();

export function spawnTracked(cmd: string[], opts: Parameters<typeof Bun.spawn>[1]): Subprocess {
  const proc = Bun.spawn(cmd, opts);
  started.add(proc);
  void proc.exited.then(() => started.delete(proc));
  return proc;
}

/** SIGTERM, then SIGKILL after `graceMs`, for one process this script started. */
export async function stop(proc: Subprocess, graceMs = 2000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Synchronous last resort (signal handlers): SIGKILL every process still running. */
export function killAllStarted(): void {
  for (const proc of started) if (proc.exitCode === null) proc.kill('SIGKILL');
}

async function eachLine(stream: ReadableStream<Uint8Array>, fn: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of stream) {
    buf += decoder.decode(chunk, { stream: true });
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      fn(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
}

// ---- runner.ts inside a namespace ------------------------------------------

export interface RunRequest {
  readonly cmds: readonly string[][];
  readonly writes?: readonly [string, string][];
  readonly env?: Readonly<Record<string, string>>;
  readonly capture?: boolean;
}

export interface RunReply {
  readonly ms: number;
  readonly cpuMs: number;
  readonly codes: readonly number[];
  readonly stderr: string;
}

export class Runner {
  private readonly proc: Subprocess<'pipe', 'pipe', 'inherit'>;
  private readonly waiting = new Map<number, (r: RunReply) => void>();
  private next = 0;

  constructor(ns: string) {
    this.proc = spawnTracked(['ip', 'netns', 'exec', ns, process.execPath, 'run', `${__dirname}/runner.ts`], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'inherit',
    }) as Subprocess<'pipe', 'pipe', 'inherit'>;
    void eachLine(this.proc.stdout, (line) => {
      const reply = JSON.parse(line) as RunReply & { id: number };
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  run(req: RunRequest): Promise<RunReply> {
    const id = this.next++;
    const done = new Promise<RunReply>((resolve, reject) => {
      this.waiting.set(id, resolve);
      void this.proc.exited.then(() => reject(new Error('runner exited')));
    });
    this.proc.stdin.write(JSON.stringify({ id, ...req }) + '\n');
    void this.proc.stdin.flush();
    return done;
  }

  async close(): Promise<void> {
    void this.proc.stdin.end();
    await stop(this.proc);
  }
}

// ---- ip monitor: when did a link appear, and when was it configured ---------

interface Pending {
  added?: number;
  last: number;
  readonly need: Set<string>;
  readonly resolve: (latencyMs: number) => void;
}

/** `[2026-11-28T02:41:46.471343] ...` -> milliseconds, with microseconds kept. */
function stampMs(line: string): number | undefined {
  const m = /^\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+(?:\.\d+)?)\] /.exec(line);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  return Date.UTC(+y, +mo - 1, +d, +h, +mi) + Number(s) * 1000;
}

/** The monitor facts that make a link "configured" (SPEC §3, metrics aside). */
function needed(l: BenchLink): string[] {
  return l.role === 'client'
    ? [`addr ${l.client}/32`, `route ${GATEWAY}/32`, 'route default']
    : [`addr ${GATEWAY}/32`, `route ${l.client}/32`];
}

/**
 * Watches one namespace with `ip -ts -o monitor link address route`. The
 * kernel's notifications, time-stamped by `ip` as they arrive, give hotplug
 * latency the same way for every program: from the link's creation to the
 * last address or route of its configuration.
 */
export class Monitor {
  private readonly proc: Subprocess<'ignore', 'pipe', 'ignore'>;
  private readonly pending = new Map<string, Pending>();

  constructor(readonly ns: string) {
    this.proc = spawnTracked(['ip', '-n', ns, '-ts', '-o', 'monitor', 'link', 'address', 'route'], {
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'ignore',
    }) as Subprocess<'ignore', 'pipe', 'ignore'>;
    void eachLine(this.proc.stdout, (line) => this.onLine(line));
  }

  private onLine(line: string): void {
    const at = stampMs(line);
    if (at === undefined) return;
    const body = line.slice(line.indexOf('] ') + 2);
    if (body.startsWith('Deleted ')) return;
    let m = /^\d+: ([^\s:@]+)(?:@\S+)?: </.exec(body);
    if (m) {
      const p = this.pending.get(m[1]);
      if (p && p.added === undefined) p.added = at;
      return;
    }
    let ifname: string;
    let fact: string;
    if ((m = /^\d+: (\S+)\s+inet (\S+)/.exec(body))) {
      [ifname, fact] = [m[1], `addr ${m[2]}`];
    } else if ((m = /^(default|[\d.]+(?:\/\d+)?)(?: via \S+)? dev (\S+)/.exec(body))) {
      const dst = m[1] === 'default' || m[1].includes('/') ? m[1] : `${m[1]}/32`;
      [ifname, fact] = [m[2], `route ${dst}`];
    } else {
      return;
    }
    const p = this.pending.get(ifname);
    if (!p || !p.need.delete(fact)) return;
    p.last = at;
    if (p.need.size === 0 && p.added !== undefined) {
      this.pending.delete(ifname);
      p.resolve(p.last - p.added);
    }
  }

  /** Resolves with the latency in ms once `link` is configured, or undefined after `timeoutMs`. */
  expect(link: BenchLink, timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(link.name);
        resolve(undefined);
      }, timeoutMs);
      this.pending.set(link.name, {
        last: 0,
        need: new Set(needed(link)),
        resolve: (ms) => {
          clearTimeout(timer);
          resolve(ms);
        },
      });
    });
  }

  async close(): Promise<void> {
    await stop(this.proc);
  }
}

/** The reference handler for one interface, as mdev would run it. */
export const referenceCmd = (ifname: string): string[] => ['busybox', 'sh', REFERENCE, ifname];
