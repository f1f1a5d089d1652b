// NetlinkSocket over libc through bun:ffi. Load only under bun: backend.ts
// imports this module dynamically, after checking for the bun runtime.
import { dlopen, FFIType, read, type Pointer } from 'bun:ffi';
import { EAGAIN, EINTR, errnoText } from './errno';
import { SyscallError, type NetlinkSocket } from './socket';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const MSG_TRUNC = 0x20;
// Large enough for any single datagram of a dump (the kernel caps those at 32 KiB).
const RECV_BUFFER = 64 * 1024;
const RECV_TIMEOUT_SECONDS = 5;

const { i32, u32, u64, i64, ptr } = FFIType;
const SYMBOLS = {
  socket: { args: [i32, i32, i32], returns: i32 },
  bind: { args: [i32, ptr, u32], returns: i32 },
  setsockopt: { args: [i32, i32, i32, ptr, u32], returns: i32 },
  send: { args: [i32, ptr, u64, i32], returns: i64 },
  recv: { args: [i32, ptr, u64, i32], returns: i64 },
  close: { args: [i32], returns: i32 },
  __errno_location: { args: [], returns: ptr },
} as const;

// glibc first (bun itself links it); musl names for musl builds of bun.
function libcCandidates(): string[] {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  return ['libc.so.6', `libc.musl-${arch}.so.1`, 'libc.so'];
}

function openLibc() {
  const failures: string[] = [];
  for (const name of libcCandidates()) {
    try {
      return dlopen(name, SYMBOLS).symbols;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`cannot load libc (${failures.join('; ')})`);
}

type Libc = ReturnType<typeof openLibc>;

function errnoOf(libc: Libc): number {
  return read.i32(libc.__errno_location() as Pointer, 0);
}

function check(libc: Libc, call: string, result: number): number {
  if (result >= 0) return result;
  const errno = errnoOf(libc);
  throw new SyscallError(call, errno, errnoText(errno));
}

function int32(value: number): Uint8Array {
  return new Uint8Array(new Int32Array([value]).buffer);
}

/** Binds a NETLINK_ROUTE socket; the kernel picks our port id. */
export function openNetlinkSocket(): NetlinkSocket {
  const libc = openLibc();
  const fd = check(libc, 'socket', libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  try {
    // struct sockaddr_nl { u16 family; u16 pad; u32 pid = 0; u32 groups = 0; }
    const addr = new Uint8Array(12);
    addr[0] = AF_NETLINK;
    check(libc, 'bind', libc.bind(fd, addr, addr.length));
    // struct timeval { i64 sec; i64 usec; }: a silent kernel must not hang us.
    const timeout = new Uint8Array(new BigInt64Array([BigInt(RECV_TIMEOUT_SECONDS), 0n]).buffer);
    check(libc, 'setsockopt', libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length));
    // Optional niceties: short acks, and the kernel's text for errors.
    libc.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, int32(1), 4);
    libc.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, int32(1), 4);
  } catch (err) {
    libc.close(fd);
    throw err;
  }
  return new FfiNetlinkSocket(libc, fd);
}

class FfiNetlinkSocket implements NetlinkSocket {
  private readonly buffer = new Uint8Array(RECV_BUFFER);
  private open = true;

  constructor(
    private readonly libc: Libc,
    private readonly fd: number,
  ) {}

  send(buf: Uint8Array): void {
    for (;;) {
      const n = Number(this.libc.send(this.fd, buf, buf.length, 0));
      if (n >= 0) return;
      const errno = errnoOf(this.libc);
      if (errno !== EINTR) throw new SyscallError('send', errno, errnoText(errno));
    }
  }

  recv(): Uint8Array {
    for (;;) {
      // MSG_TRUNC makes recv return the real length, so truncation is visible.
      const n = Number(this.libc.recv(this.fd, this.buffer, this.buffer.length, MSG_TRUNC));
      if (n > this.buffer.length) throw new Error(`netlink: datagram of ${n} bytes truncated`);
      if (n >= 0) return this.buffer.slice(0, n);
      const errno = errnoOf(this.libc);
      if (errno === EAGAIN) throw new SyscallError('recv', errno, 'no answer from the kernel (timed out)');
      if (errno !== EINTR) throw new SyscallError('recv', errno, errnoText(errno));
    }
  }

  close(): void {
    if (this.open) this.libc.close(this.fd);
    this.open = false;
  }
}
