// Boots one image directory (vmlinux, initramfs, rootfs.ext4) with exactly the
// documented boot contract, inside the test's network namespace, and records
// its serial console (the guest's write-only log) with arrival times so
// markers can be timed. The user's console, hvc0, is a unix socket; console.ts drives both.
import { ChildProcess, spawn } from 'child_process';
import { createWriteStream, WriteStream } from 'fs';
import { join } from 'path';
import { Arch, MACHINES, accelArgs, hotplugPortArgs } from './arch';

export interface Nic {
  id: string;
  mac: string;
  tap: string;
}

export interface VmOptions {
  name: string;
  imageDir: string;
  netns: string;
  nics: Nic[];
  logFile: string;
  /** keep qemu's stdin open, so `type` can write to the serial console */
  interactive?: boolean;
  qmpSocket?: string;
  /** the guest's hvc0 (virtio console) as a unix socket qemu listens on */
  consoleSocket?: string;
  /** amd64 unless given */
  arch?: Arch;
  /** raw files given to the guest read-only as further virtio disks (/dev/vdb, ...) */
  disks?: string[];
}

export interface Marker {
  /** the matched text and groups */
  match: RegExpExecArray;
  /** offset just past the match in the console log */
  end: number;
  /** milliseconds from qemu start until the matching output arrived */
  atMs: number;
}

export function netdevArgs(nic: Nic): string[] {
  return [
    '-netdev', `tap,id=${nic.id},ifname=${nic.tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=${nic.id},mac=${nic.mac},id=dev-${nic.id}`,
  ];
}

/** The README's virtio console options: hvc0 in the guest, a socket here. */
export function virtioConsoleArgs(socket: string): string[] {
  return [
    '-device', 'virtio-serial-pci',
    '-chardev', `socket,id=hvc0,path=${socket},server=on,wait=off`,
    '-device', 'virtconsole,chardev=hvc0',
  ];
}

export class Vm {
  readonly startedAt: number;
  private readonly proc: ChildProcess;
  private readonly log: WriteStream;
  private output = '';
  private readonly arrivals: { end: number; t: number }[] = [];
  private portsUsed = 0;
  exit: string | null = null;

  constructor(readonly opts: VmOptions) {
    const d = opts.imageDir;
    const arch = opts.arch ?? 'amd64';
    const args = [
      'netns', 'exec', opts.netns, MACHINES[arch].qemu,
      ...accelArgs(arch),
      '-m', '256', '-nodefaults', '-display', 'none', '-no-reboot', '-serial', 'stdio',
      '-kernel', join(d, 'vmlinux'), '-initrd', join(d, 'initramfs'),
      '-drive', `file=${join(d, 'rootfs.ext4')},if=virtio,format=raw,readonly=on`,
      ...(opts.disks ?? []).flatMap((f) => ['-drive', `file=${f},if=virtio,format=raw,readonly=on`]),
      '-append', `console=${MACHINES[arch].console}`,
      ...hotplugPortArgs(arch),
      ...opts.nics.flatMap(netdevArgs),
      ...(opts.qmpSocket ? ['-qmp', `unix:${opts.qmpSocket},server=on,wait=off`] : []),
      ...(opts.consoleSocket ? virtioConsoleArgs(opts.consoleSocket) : []),
    ];
    this.log = createWriteStream(opts.logFile);
    this.startedAt = Date.now();
    // "ip netns exec" execs qemu in place, so this PID is qemu's own.
    this.proc = spawn('ip', args, { stdio: [opts.interactive ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
      this.arrivals.push({ end: this.output.length, t: Date.now() });
      this.log.write(chunk);
    };
    this.proc.stdout!.on('data', onData);
    this.proc.stderr!.on('data', onData);
    this.proc.on('exit', (code, signal) => {
      this.exit = signal ? `signal ${signal}` : `exit code ${code}`;
    });
    this.proc.on('error', (err) => {
      this.exit = `spawn error: ${err.message}`;
    });
  }

  /** device_add's bus for the next hot-added device: a free root port where the machine needs one. */
  hotplugBus(): { bus?: string } {
    const ports = MACHINES[this.opts.arch ?? 'amd64'].hotplugPorts;
    if (ports === 0) return {};
    if (this.portsUsed >= ports) throw new Error(`${this.opts.name}: all ${ports} hotplug root ports taken`);
    return { bus: `hp${this.portsUsed++}` };
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Sends `text` to the serial console, as if typed (needs `interactive`). */
  type(text: string): void {
    if (!this.proc.stdin) throw new Error(`${this.opts.name}: not started with interactive: true`);
    this.proc.stdin.write(text);
  }

  get console(): string {
    return this.output;
  }

  tail(lines = 40): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /** Waits until the console shows `re` at or after offset `from`. */
  async waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<Marker> {
    const deadline = Date.now() + timeoutMs;
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
    for (;;) {
      g.lastIndex = from;
      const m = g.exec(this.output);
      if (m) {
        const end = m.index + m[0].length;
        const arrival = this.arrivals.find((a) => a.end >= end);
        return { match: m, end, atMs: (arrival ? arrival.t : Date.now()) - this.startedAt };
      }
      if (this.exit !== null || Date.now() > deadline) {
        const why = this.exit !== null ? `qemu ended (${this.exit})` : `timed out after ${timeoutMs} ms`;
        throw new Error(
          `${this.opts.name}: ${why} waiting for ${re}; console log ${this.opts.logFile}, last lines:\n${this.tail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves with how qemu ended (e.g. "exit code 0" once the guest powers off). */
  async waitExit(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.exit === null) {
      if (Date.now() > deadline) throw new Error(`${this.opts.name}: qemu still running after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return this.exit;
  }

  /** SIGTERM, then SIGKILL after 5 s; resolves once qemu is gone. */
  async stop(): Promise<void> {
    if (this.exit === null && this.proc.pid !== undefined) {
      const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    await new Promise<void>((r) => this.log.end(r));
  }
}
