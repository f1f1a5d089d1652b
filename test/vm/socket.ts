// qemu's unix sockets (QMP, the virtio console) appear shortly after it starts.
import { Socket, createConnection } from 'net';

/** Connects to a unix socket qemu listens on, retrying until it exists. */
export async function connectUnix(path: string, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = createConnection(path, () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${path}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
