import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { GUESTNET, type Netns } from '../helpers/netns';

// A long-running `guestnet watch` (or `dns`) child inside a test namespace,
// with its readiness pipe on fd 3. Tests stop it by PID in afterEach, also
// when they fail.

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class WatchProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  /** Resolves with what fd 3 carried, once the watcher closed it. */
  readonly notified: Promise<string>;
  private readonly firstNewline: Promise<void>;
  stderr = '';

  constructor(ns: Netns, args: readonly string[], env: NodeJS.ProcessEnv = process.env, command: 'watch' | 'dns' = 'watch') {
    // `ip netns exec` execs guestnet in place, so this PID is guestnet's.
    this.child = spawn('ip', ['netns', 'exec', ns.name, GUESTNET, command, '--notify-fd', '3', ...args], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env,
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    // 'close', not 'exit': by then stderr has been read to its end.
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
    const fd3 = this.child.stdio[3] as Readable;
    this.firstNewline = new Promise((resolve) => fd3.once('data', () => resolve()));
    this.notified = new Promise((resolve) => {
      let text = '';
      fd3.setEncoding('utf8').on('data', (d: string) => (text += d));
      fd3.on('close', () => resolve(text));
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('watcher did not start');
    return this.child.pid;
  }

  /** Resolves once the first newline arrives on fd 3 (the first full apply is done). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const died = this.exited.then((e) => Promise.reject(new Error(`watcher exited (${e.code ?? e.signal}):\n${this.stderr}`)));
    await withTimeout(Promise.race([this.firstNewline, died]), timeoutMs, 'readiness');
  }

  signal(sig: NodeJS.Signals): void {
    process.kill(this.pid, sig);
  }

  /** SIGTERM, then SIGKILL if it has not exited within the grace time. */
  async stop(graceMs = 5_000): Promise<Exit> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  lines(pattern: RegExp): string[] {
    return this.stderr.split('\n').filter((l) => pattern.test(l));
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns true; fails with `what` and the last value after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
