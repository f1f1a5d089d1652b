// The only syscalls the netlink backend needs, behind an interface so that
// everything above it runs (and is tested) without bun:ffi.

/** A bound NETLINK_ROUTE socket talking to the kernel. Calls block. */
export interface NetlinkSocket {
  /** Sends one datagram holding one or more messages. */
  send(buf: Uint8Array): void;
  /**
   * Receives one datagram (possibly several messages); throws on timeout.
   * The bytes may be the socket's own buffer: valid until the next receive.
   */
  recv(): Uint8Array;
  /** A datagram already queued, without waiting; undefined if there is none. Valid as recv()'s. */
  recvQueued(): Uint8Array | undefined;
  close(): void;
}

/** A failed syscall: `errno` is positive, as in C. */
export class SyscallError extends Error {
  override readonly name = 'SyscallError';
  constructor(
    readonly call: string,
    readonly errno: number,
    message: string,
  ) {
    super(`${call}: ${message}`);
  }
}
