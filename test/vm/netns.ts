// Throwaway network namespace standing in for Spectrum's host side: one
// bridge per inter-guest link, one tap per VM NIC on it. Nothing here touches
// the machine's own interfaces.
import { execFileSync } from 'child_process';

const PREFIX = 'gn-vm-';

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Netns {
  private constructor(readonly name: string) {}

  /** Creates gn-vm-<pid>, after deleting ones left by earlier runs that died. */
  static create(): Netns {
    for (const line of ip(['netns', 'list']).split('\n')) {
      const m = /^gn-vm-(\d+)\b/.exec(line);
      if (!m || isAlive(Number(m[1]))) continue;
      // A killed test run may have left its qemus behind: end them by PID.
      const stale = `${PREFIX}${m[1]}`;
      for (const pid of ip(['netns', 'pids', stale]).split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      ip(['netns', 'del', stale]);
    }
    const ns = new Netns(`${PREFIX}${process.pid}`);
    ip(['netns', 'add', ns.name]);
    return ns;
  }

  ip(...args: string[]): string {
    return ip(['-n', this.name, ...args]);
  }

  /** Runs a command inside the namespace; its stdout. */
  exec(...cmd: string[]): string {
    return execFileSync('ip', ['netns', 'exec', this.name, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** STP off and no forwarding delay, so a tap forwards as soon as qemu opens it. */
  addBridge(bridge: string): void {
    this.ip('link', 'add', bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0');
    this.ip('link', 'set', bridge, 'up');
  }

  addTap(tap: string, bridge: string): void {
    this.ip('tuntap', 'add', 'dev', tap, 'mode', 'tap');
    this.ip('link', 'set', tap, 'master', bridge);
    this.ip('link', 'set', tap, 'up');
  }

  /** Idempotent; never throws, as it runs on failure paths. */
  delete(): void {
    try {
      ip(['netns', 'del', this.name]);
    } catch {
      /* already gone */
    }
  }
}
