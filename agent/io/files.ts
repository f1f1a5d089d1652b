// Synchronous file I/O for every start: stdout and stderr, sysfs attributes,
// /proc/sys/net/ipv4/ip_forward. Under bun (the compiled binary) it goes
// through libc's open/read/write over bun:ffi, which the netlink backend
// loads anyway: importing node:fs costs ~2.7 M instructions (~1.5 ms) of
// every start, more than guestnet's own work on a VM without links. Under
// node (jest, the `ip` backend) it is node:fs. Either is loaded on first use,
// with require() because the callers are synchronous; the two modules export
// the same functions and throw node's errors (`code`, `syscall`, `path`).

type Io = typeof import('./files-node');

function io(): Io {
  return typeof Bun === 'undefined' ? require('./files-node') : require('./files-bun');
}

/** write(2) once, retried on EINTR: the bytes written. Throws EAGAIN, EPIPE, ... as node's errors. */
export function writeSome(fd: number, bytes: Uint8Array): number {
  return io().writeSome(fd, bytes);
}

/** The whole file as UTF-8 (readFileSync(path, 'utf8')). */
export function readText(path: string): string {
  return io().readText(path);
}

/** Creates or truncates the file and writes `text` (writeFileSync(path, text)). */
export function writeText(path: string, text: string): void {
  io().writeText(path, text);
}

/**
 * The names in a directory, from node:fs under either runtime: only the `ip`
 * backend and the polling watcher list sysfs, never a netlink start-up.
 */
export function listDir(path: string): string[] {
  return (require('node:fs') as typeof import('node:fs')).readdirSync(path);
}
