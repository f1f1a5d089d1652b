// Request/answer bookkeeping over a NetlinkSocket: dumps, and batches of
// acknowledged requests matched to their answers by sequence number.
import { getU16, putU16, putU32 } from './bytes';
import { errnoText } from './errno';
import {
  decodeDone, decodeError, decodeMessages, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP_INTR,
  type NlError, type NlMessage,
} from './message';
import { SyscallError, type NetlinkSocket } from './socket';
import { MANY_ENTRIES, normalJit } from '../engine';

/** Writes `seq` into a request's nlmsghdr; builders leave it 0. */
function stamp(request: Uint8Array, seq: number): Uint8Array {
  putU32(request, 8, seq);
  return request;
}

// Requests sent in one datagram before reading their answers: bounded so
// the error answers cannot overflow the socket's receive buffer (the
// kernel drops them if it does).
const WINDOW = 64;
// A dump that raced with a change is flagged NLM_F_DUMP_INTR; retry it.
const DUMP_ATTEMPTS = 5;

export class NetlinkChannel {
  private seq: number;

  constructor(
    private readonly socket: NetlinkSocket,
    firstSeq: number = Math.floor(Date.now() / 1000),
  ) {
    this.seq = firstSeq >>> 0;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  /** Every reply message of a dump request, from a consistent snapshot. */
  dump(request: Uint8Array): NlMessage[] {
    return this.dumpDecoded(request, (msg) => msg);
  }

  /**
   * A dump's messages decoded as they arrive, keeping only what `decode`
   * returns: each received datagram is garbage as soon as it is read,
   * rather than all of a dump of thousands of links being held at once.
   */
  dumpDecoded<T>(request: Uint8Array, decode: (msg: NlMessage) => T | undefined): T[] {
    for (let attempt = 1; ; attempt++) {
      const { values, interrupted } = this.dumpOnce(request, decode);
      if (!interrupted || attempt >= DUMP_ATTEMPTS) return values;
    }
  }

  /** The one answer to a plain request (no dump), e.g. RTM_GETLINK by name; an error answer throws. */
  get(request: Uint8Array): NlMessage | undefined {
    const seq = this.nextSeq();
    this.socket.send(stamp(request, seq));
    for (;;) {
      for (const msg of decodeMessages(this.socket.recv())) {
        if (msg.seq !== seq) continue; // a stale answer to an earlier request
        if (msg.type !== NLMSG_ERROR) return msg;
        const { errno, message } = decodeError(msg);
        if (errno === 0) return undefined;
        throw new SyscallError('netlink request', errno, errnoText(errno, message));
      }
    }
  }

  private dumpOnce<T>(request: Uint8Array, decode: (msg: NlMessage) => T | undefined): { values: T[]; interrupted: boolean } {
    const seq = this.nextSeq();
    this.socket.send(stamp(request, seq));
    const values: T[] = [];
    let interrupted = false;
    for (;;) {
      for (const msg of decodeMessages(this.socket.recv())) {
        if (msg.seq !== seq) continue; // a stale answer to an earlier request
        if (msg.flags & NLM_F_DUMP_INTR) interrupted = true;
        if (msg.type === NLMSG_DONE) {
          const errno = decodeDone(msg);
          if (errno !== 0) throw new SyscallError('netlink dump', errno, errnoText(errno));
          return { values, interrupted };
        }
        if (msg.type === NLMSG_ERROR) {
          const { errno, message } = decodeError(msg);
          throw new SyscallError('netlink dump', errno, errnoText(errno, message));
        }
        const value = decode(msg);
        if (value !== undefined && values.push(value) === MANY_ENTRIES) normalJit();
      }
    }
  }

  /**
   * Sends `count` requests that carry NLM_F_ACK and returns each one's
   * answer, in order. `request(k)` builds the k-th as its window is sent
   * (undefined: nothing to send, no answer), so no more than a window of
   * requests exists at a time, not the ~14,000 of 4,096 links. A window goes
   * out as one datagram, in which the kernel handles them in order; only
   * the last keeps its ack request (the kernel answers the others only when
   * they fail), so the last ack also says that every request before it
   * without an error succeeded.
   */
  transact(count: number, request: (k: number) => Uint8Array | undefined): (NlError | undefined)[] {
    const answers = new Array<NlError | undefined>(count);
    for (let i = 0; i < count; i += WINDOW) this.window(request, i, Math.min(i + WINDOW, count), answers);
    return answers;
  }

  /** The requests [from, to) in one datagram; fills their answers. */
  private window(request: (k: number) => Uint8Array | undefined, from: number, to: number, answers: (NlError | undefined)[]): void {
    // Plain loops: callback builtins cost a first-call compile under bun.
    const built: Uint8Array[] = [];
    const owners: number[] = []; // built[j] is request owners[j]
    let size = 0;
    for (let i = from; i < to; i++) {
      const message = request(i);
      if (message === undefined) continue;
      built.push(message);
      owners.push(i);
      size += message.length;
    }
    if (built.length === 0) return;
    const datagram = new Uint8Array(size);
    const pending = new Map<number, number>(); // seq -> index in answers
    let last = 0;
    for (let j = 0, off = 0; j < built.length; off += built[j].length, j++) {
      datagram.set(built[j], off);
      last = this.nextSeq();
      putU32(datagram, off + 8, last);
      if (j < built.length - 1) putU16(datagram, off + 6, getU16(datagram, off + 6) & ~NLM_F_ACK);
      pending.set(last, owners[j]);
    }
    try {
      this.socket.send(datagram);
    } catch (err) {
      // Nothing of a datagram that could not be sent reached the kernel.
      if (!(err instanceof SyscallError)) throw err;
      for (const i of owners) answers[i] = { errno: err.errno };
      return;
    }
    this.collect(pending, last, answers);
  }

  /** Reads answers until the last request's ack; those without one succeeded. */
  private collect(pending: Map<number, number>, last: number, answers: (NlError | undefined)[]): void {
    while (pending.has(last)) {
      let datagram: Uint8Array;
      try {
        datagram = this.socket.recv();
      } catch (err) {
        // No final ack (timeout, or answers dropped on overflow): what is left is unknown, so failed.
        if (!(err instanceof SyscallError)) throw err;
        for (const i of pending.values()) answers[i] = { errno: err.errno, message: 'no answer from the kernel' };
        return;
      }
      for (const msg of decodeMessages(datagram)) {
        const i = pending.get(msg.seq);
        if (i === undefined || msg.type !== NLMSG_ERROR) continue;
        answers[i] = decodeError(msg);
        pending.delete(msg.seq);
      }
    }
    for (const i of pending.values()) answers[i] = { errno: 0 };
  }
}
