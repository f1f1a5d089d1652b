// agent/io/files.ts in the compiled executable, in place of files-node.ts:
// libc through bun:ffi (netlink/libc-bun.ts), with node's error shape so
// callers read `code` whichever runtime runs them.
import { EINTR } from '../netlink/errno';
import { errnoOf, libc } from '../netlink/libc-bun';

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_CLOEXEC = 0o2000000;
// Room for any sysfs attribute or /proc/sys value in one read.
const CHUNK = 4096;

// errno names and libuv's texts, as node words them ("ENOENT: no such file or directory, open '/x'").
const ERRNO: ReadonlyMap<number, [string, string]> = new Map([
  [1, ['EPERM', 'operation not permitted']],
  [2, ['ENOENT', 'no such file or directory']],
  [5, ['EIO', 'i/o error']],
  [11, ['EAGAIN', 'resource temporarily unavailable']],
  [13, ['EACCES', 'permission denied']],
  [19, ['ENODEV', 'no such device']],
  [20, ['ENOTDIR', 'not a directory']],
  [21, ['EISDIR', 'illegal operation on a directory']],
  [22, ['EINVAL', 'invalid argument']],
  [28, ['ENOSPC', 'no space left on device']],
  [30, ['EROFS', 'read-only file system']],
  [32, ['EPIPE', 'broken pipe']],
]);

function failure(syscall: string, path?: string): NodeJS.ErrnoException {
  const errno = errnoOf(libc);
  const [code, text] = ERRNO.get(errno) ?? [`E${errno}`, `unknown system error ${errno}`];
  const where = path === undefined ? syscall : `${syscall} '${path}'`;
  return Object.assign(new Error(`${code}: ${text}, ${where}`), { errno: -errno, code, syscall, ...(path === undefined ? {} : { path }) });
}

/** Runs a call until it is not interrupted; its result, or node's error. */
function retried(call: () => number, syscall: string, path?: string): number {
  for (;;) {
    const result = call();
    if (result >= 0) return result;
    const err = failure(syscall, path);
    if (err.errno !== -EINTR) throw err;
  }
}

function open(path: string, flags: number): number {
  const cpath = new TextEncoder().encode(`${path}\0`);
  return retried(() => libc.open(cpath, flags | O_CLOEXEC, 0o666), 'open', path);
}

export function writeSome(fd: number, bytes: Uint8Array): number {
  return retried(() => Number(libc.write(fd, bytes, bytes.length)), 'write');
}

export function readText(path: string): string {
  const fd = open(path, O_RDONLY);
  try {
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const buf = new Uint8Array(CHUNK);
      const n = retried(() => Number(libc.read(fd, buf, CHUNK)), 'read', path);
      if (n === 0) return text + decoder.decode();
      // stream: a character split between two reads is decoded whole.
      text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
  } finally {
    libc.close(fd);
  }
}

/**
 * From node:fs, loaded on first use: only the `ip` backend and the polling
 * watcher list sysfs, never a netlink start-up.
 */
export function listDir(path: string): string[] {
  return (require('node:fs') as typeof import('node:fs')).readdirSync(path);
}

export function writeText(path: string, text: string): void {
  const fd = open(path, O_WRONLY | O_CREAT | O_TRUNC);
  try {
    let bytes = new TextEncoder().encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(writeSome(fd, bytes));
  } finally {
    libc.close(fd);
  }
}
