// A root shell on a guest's console, driven as a user would: type a command
// line, read its output up to a unique end marker. The markers are built by
// the guest's shell ($((...))), so the echo of the typed line never matches
// them, only the command's real output. Two consoles carry such a shell:
//  - VirtioConsole: hvc0, a shell s6 respawns, reached through qemu's socket;
//  - SerialShell: ttyS0, where the Debian image logs root in by itself; it
//    also carries kernel and systemd messages, so the shell quiets them.
import { WriteStream, createWriteStream } from 'fs';
import { Socket } from 'net';
import { Vm } from './qemu';
import { connectUnix } from './socket';

export interface Result {
  /** what the command printed (stdout and stderr), without carriage returns */
  out: string;
  status: number;
}

export abstract class GuestShell {
  private seq = 0;

  protected constructor(readonly name: string) {}

  /** Types `line` into the console. */
  protected abstract type(line: string): void;
  /** Everything the console has shown so far. */
  protected abstract get text(): string;
  /** Why no more output can come, if none can. */
  protected abstract get ended(): string | undefined;

  /** Runs `command` in the guest's shell; resolves with its output and exit status. */
  async run(command: string, timeoutMs = 60_000): Promise<Result> {
    const n = ++this.seq;
    const begin = new RegExp(`@B${n}@\\r?\\n`);
    const end = new RegExp(`@E${n}@(\\d+)\\r?\\n`);
    const from = this.text.length;
    // One line, so no prompt lands between the markers.
    this.type(`echo "@B$((${n}))@"; ${command}; echo "@E$((${n}))@$?"\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.text.slice(from);
      const b = begin.exec(text);
      const e = b ? end.exec(text.slice(b.index)) : null;
      if (b && e) {
        const out = text.slice(b.index + b[0].length, b.index + e.index).replace(/\r/g, '');
        return { out, status: Number(e[1]) };
      }
      const ended = this.ended;
      if (ended !== undefined || Date.now() > deadline) {
        const why = ended ?? `no end marker within ${timeoutMs} ms`;
        throw new Error(`${this.name}: ${why} running "${command}"; last output:\n${text.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Like run, but a non-zero exit status is an error naming the command. */
  async check(command: string, timeoutMs?: number): Promise<string> {
    const r = await this.run(command, timeoutMs);
    if (r.status !== 0) throw new Error(`${this.name}: "${command}" exited ${r.status}:\n${r.out}`);
    return r.out;
  }
}

/** hvc0 through the unix socket qemu listens on; everything read is logged to a file. */
export class VirtioConsole extends GuestShell {
  private buf = '';
  private closed = false;

  private constructor(
    private readonly sock: Socket,
    private readonly log: WriteStream,
    name: string,
  ) {
    super(name);
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      this.buf += chunk;
      log.write(chunk);
    });
    sock.on('close', () => {
      this.closed = true;
    });
  }

  static async connect(name: string, path: string, logFile: string, timeoutMs = 20_000): Promise<VirtioConsole> {
    const sock = await connectUnix(path, timeoutMs);
    return new VirtioConsole(sock, createWriteStream(logFile), name);
  }

  protected type(line: string): void {
    this.sock.write(line);
  }

  protected get text(): string {
    return this.buf;
  }

  protected get ended(): string | undefined {
    return this.closed ? 'console closed' : undefined;
  }

  /** Types a line without waiting for an answer (e.g. poweroff). */
  send(line: string): void {
    this.sock.write(`${line}\n`);
  }

  async close(): Promise<void> {
    this.sock.destroy();
    await new Promise<void>((r) => this.log.end(r));
  }
}

/** ttyS0 of a VM started `interactive` (qemu's stdin); its log is the VM's. */
export class SerialShell extends GuestShell {
  private constructor(private readonly vm: Vm) {
    super(vm.opts.name);
  }

  /** Waits for the login prompt, then quiets the console for reading. */
  static async login(vm: Vm, prompt: RegExp, timeoutMs: number): Promise<SerialShell> {
    await vm.waitFor(prompt, timeoutMs);
    const sh = new SerialShell(vm);
    // No echo of typed text, kernel messages off the console, plain systemctl.
    await sh.run('stty -echo; dmesg -n 1; export SYSTEMD_PAGER= SYSTEMD_COLORS=0 SYSTEMD_URLIFY=0', 60_000);
    return sh;
  }

  protected type(line: string): void {
    this.vm.type(line);
  }

  protected get text(): string {
    return this.vm.console;
  }

  protected get ended(): string | undefined {
    return this.vm.exit === null ? undefined : `qemu ended (${this.vm.exit})`;
  }
}
