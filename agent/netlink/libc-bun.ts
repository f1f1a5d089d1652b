// The libc calls guestnet makes through bun:ffi (node and bun offer no
// netlink or unix datagram sockets). Load only under bun: importers load
// their modules dynamically after checking for the bun runtime.
import { dlopen, FFIType, read, type Pointer } from 'bun:ffi';
import { errnoText } from './errno';
import { SyscallError } from './socket';

export { AF_NETLINK, AF_UNIX } from './sockaddr';

export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_ROUTE = 0;
export const SOL_SOCKET = 1;

const { i32, u32, u64, i64, i64_fast, ptr } = FFIType;
const SYMBOLS = {
  socket: { args: [i32, i32, i32], returns: i32 },
  bind: { args: [i32, ptr, u32], returns: i32 },
  setsockopt: { args: [i32, i32, i32, ptr, u32], returns: i32 },
  send: { args: [i32, ptr, u64, i32], returns: i64 },
  // i64_fast: a number, not a BigInt per call (guestnet dns sends one per query and answer).
  sendto: { args: [i32, ptr, u64, i32, ptr, u32], returns: i64_fast },
  recv: { args: [i32, ptr, u64, i32], returns: i64 },
  close: { args: [i32], returns: i32 },
  // agent/io/files-bun.ts: stdout, stderr, /proc/sys and sysfs without node:fs.
  open: { args: [ptr, i32, u32], returns: i32 },
  read: { args: [i32, ptr, u64], returns: i64 },
  write: { args: [i32, ptr, u64], returns: i64 },
  __errno_location: { args: [], returns: ptr },
} as const;

/**
 * glibc first (bun itself links it); musl's paths for musl builds of bun.
 * Those are absolute: bun:ffi retries a bare name that fails to load
 * relative to the working directory, which would load whatever is there.
 */
function openLibc() {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const failures: string[] = [];
  for (const name of ['libc.so.6', `/lib/libc.musl-${arch}.so.1`, '/usr/lib/libc.so']) {
    try {
      return dlopen(name, SYMBOLS).symbols;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`cannot load libc (${failures.join('; ')})`);
}

export type LibcSymbols = ReturnType<typeof openLibc>;

/**
 * libc, loaded once per process: bun:ffi compiles a trampoline per symbol
 * at each dlopen, and a run's output and its netlink sockets share these.
 */
export const libc: LibcSymbols = openLibc();

export function errnoOf(libc: LibcSymbols): number {
  return read.i32(libc.__errno_location() as Pointer, 0);
}

/** Returns a non-negative result; throws SyscallError with errno's text otherwise. */
export function check(libc: LibcSymbols, call: string, result: number): number {
  if (result >= 0) return result;
  const errno = errnoOf(libc);
  throw new SyscallError(call, errno, errnoText(errno));
}

export function int32(value: number): Uint8Array {
  return new Uint8Array(new Int32Array([value]).buffer);
}
