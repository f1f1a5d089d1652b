// A root shell on a guest's serial console (the Debian image logs root in
// there by itself): type a command, read back its output and exit status.
// The console also carries kernel and systemd messages, so each command's
// output is framed by marker lines that its typed text cannot contain.
import { Vm } from './qemu';

export interface Result {
  /** what the command printed (stdout and stderr), without carriage returns */
  out: string;
  status: number;
}

export class GuestShell {
  private seq = 0;

  private constructor(private readonly vm: Vm) {}

  /** Waits for the login prompt, then quiets the console for reading. */
  static async login(vm: Vm, prompt: RegExp, timeoutMs: number): Promise<GuestShell> {
    await vm.waitFor(prompt, timeoutMs);
    const sh = new GuestShell(vm);
    // No echo of typed text, kernel messages off the console, plain systemctl.
    await sh.run('stty -echo; dmesg -n 1; export SYSTEMD_PAGER= SYSTEMD_COLORS=0 SYSTEMD_URLIFY=0', 60_000);
    return sh;
  }

  /** Runs `cmd` in the guest's shell; resolves with its output and status. */
  async run(cmd: string, timeoutMs = 60_000): Promise<Result> {
    const n = ++this.seq;
    const from = this.vm.console.length;
    // One line, so no prompt lands between the markers. printf builds
    // "gnB-n" / "gnE-n-status" at run time: the typed line (echoed until
    // stty -echo takes effect) holds neither.
    this.vm.type(`printf '%s-%s\\n' gnB ${n}; { ${cmd}; }; printf '%s-%s-%s\\n' gnE ${n} $?\n`);
    const begin = await this.vm.waitFor(new RegExp(`gnB-${n}\\r?\\n`), timeoutMs, from);
    const end = await this.vm.waitFor(new RegExp(`gnE-${n}-(\\d+)\\r?\\n`), timeoutMs, begin.end);
    const out = this.vm.console.slice(begin.end, end.match.index).replace(/\r/g, '');
    return { out, status: Number(end.match[1]) };
  }

  /** Like `run`, but a non-zero status is an error naming the command. */
  async check(cmd: string, timeoutMs?: number): Promise<string> {
    const r = await this.run(cmd, timeoutMs);
    if (r.status !== 0) throw new Error(`guest: "${cmd}" exited ${r.status}:\n${r.out}`);
    return r.out;
  }
}
