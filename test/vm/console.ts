// The user's side of a guest's virtio console (hvc0, a root shell that s6
// respawns): types a command line and reads its output up to a unique end
// marker. The markers are built by the guest's shell ($((...))), so the
// echo of the typed line never matches them, only the command's real output.
import { WriteStream, createWriteStream } from 'fs';
import { Socket } from 'net';
import { connectUnix } from './socket';

export interface Result {
  /** what the command printed (stdout and stderr), without carriage returns */
  out: string;
  status: number;
}

export class VirtioConsole {
  private buf = '';
  private seq = 0;
  private closed = false;

  private constructor(
    private readonly sock: Socket,
    private readonly log: WriteStream,
    readonly name: string,
  ) {
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

  /** Runs `command` in the guest's shell; resolves with its output and exit status. */
  async run(command: string, timeoutMs = 60_000): Promise<Result> {
    const n = ++this.seq;
    const begin = `@B${n}@`;
    const end = new RegExp(`@E${n}@(\\d+)\\r?\\n`);
    const from = this.buf.length;
    this.sock.write(`echo "@B$((${n}))@"; ${command}; echo "@E$((${n}))@$?"\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.buf.slice(from);
      const b = text.indexOf(`${begin}\r\n`);
      const e = b < 0 ? null : end.exec(text.slice(b));
      if (b >= 0 && e) {
        const out = text.slice(b + begin.length + 2, b + e.index).replace(/\r/g, '');
        return { out, status: Number(e[1]) };
      }
      if (this.closed || Date.now() > deadline) {
        const why = this.closed ? 'console closed' : `no end marker within ${timeoutMs} ms`;
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

  /** Types a line without waiting for an answer (e.g. poweroff). */
  send(line: string): void {
    this.sock.write(`${line}\n`);
  }

  async close(): Promise<void> {
    this.sock.destroy();
    await new Promise<void>((r) => this.log.end(r));
  }
}
