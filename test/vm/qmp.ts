// Minimal QMP client: enough for the host's side of NIC hotplug
// (netdev_add/device_add/device_del and the DEVICE_DELETED event).
import { Socket } from 'net';
import { connectUnix } from './socket';

type Json = Record<string, unknown>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class Qmp {
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  readonly events: Json[] = [];

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.onData(chunk));
    sock.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('QMP connection closed'));
      this.pending.clear();
    });
  }

  static async connect(path: string, timeoutMs = 20_000): Promise<Qmp> {
    const qmp = new Qmp(await connectUnix(path, timeoutMs));
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as Json;
      if ('event' in msg) this.events.push(msg);
      const id = typeof msg.id === 'string' ? msg.id : undefined;
      const p = id === undefined ? undefined : this.pending.get(id);
      if (!p || id === undefined) continue;
      this.pending.delete(id);
      if ('error' in msg) p.reject(new Error(`QMP error: ${JSON.stringify(msg.error)}`));
      else p.resolve(msg.return);
    }
  }

  execute(command: string, args?: Json): Promise<unknown> {
    const id = `gn${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(JSON.stringify({ execute: command, arguments: args, id }) + '\n');
    });
  }

  async waitEvent(name: string, pred: (data: Json) => boolean, timeoutMs: number): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = this.events.find((e) => e.event === name && pred((e.data ?? {}) as Json));
      if (ev) return ev;
      if (Date.now() > deadline) throw new Error(`no QMP event ${name} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
