import { closeSync, fstatSync, writeSync } from 'node:fs';
import { run } from '../apply/run';
import { UsageError } from '../errors';
import type { Logger } from '../log';

// Telling a supervisor that a long-running command is ready (`watch`: its
// first full apply is done; `dns`: its sockets are bound).
//  - s6 (Spectrum's supervisor): one newline on the notification-fd, then close it.
//  - systemd (Type=notify): "READY=1" as a datagram to $NOTIFY_SOCKET. Node
//    has no unix datagram sockets, so guestnet sends it through bun:ffi, from
//    its own PID (NotifyAccess=main accepts it). Without FFI it falls back to
//    `systemd-notify`, which only works with NotifyAccess=all since the
//    message then comes from a child.

/** Fails early, at start, when --notify-fd names no open file. */
export function checkNotifyFd(fd: number): void {
  if (!Number.isInteger(fd) || fd < 3) throw new UsageError(`--notify-fd: "${fd}" is not a descriptor above 2`);
  try {
    fstatSync(fd);
  } catch {
    throw new UsageError(`--notify-fd: "${fd}" is not an open descriptor`);
  }
}

/** s6's protocol: a newline, then close, so the fd is written exactly once. */
export function notifyFd(fd: number, log: Logger): void {
  try {
    writeSync(fd, '\n');
  } catch (err) {
    log.log('warn', undefined, `cannot signal readiness on fd ${fd}: ${(err as Error).message}`);
  }
  try {
    closeSync(fd);
  } catch {
    // already closed by a failed write: nothing more to release
  }
}

async function sendFfi(socket: string, state: string): Promise<void> {
  if (typeof Bun === 'undefined') throw new Error('no bun runtime for FFI');
  const { sendDatagram } = await import('./datagram-bun');
  sendDatagram(socket, state);
}

/** sd_notify(3): a no-op without $NOTIFY_SOCKET; failures are logged, never fatal. */
export async function notifySystemd(state: string, env: NodeJS.ProcessEnv, log: Logger): Promise<void> {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return;
  try {
    await sendFfi(socket, state);
    return;
  } catch (err) {
    log.log('debug', undefined, `sd_notify through FFI failed: ${(err as Error).message}`);
  }
  try {
    const out = await run('systemd-notify', state.split('\n'));
    if (out.code !== 0) throw new Error(out.stderr.trim() || `exit ${out.code}`);
  } catch (err) {
    log.log('warn', undefined, `cannot notify systemd at ${socket}: ${(err as Error).message}`);
  }
}
