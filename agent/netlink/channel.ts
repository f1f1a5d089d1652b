// Request/answer bookkeeping over a NetlinkSocket: dumps, and batches of
// acknowledged requests matched to their answers by sequence number.
import { errnoText } from './errno';
import {
  decodeDone, decodeError, decodeMessages, NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP_INTR,
  type NlError, type NlMessage,
} from './message';
import { SyscallError, type NetlinkSocket } from './socket';

/**
 * Writes `seq` into a request's nlmsghdr (host order, little-endian);
 * builders leave it 0. Bytes, not a DataView: see message.ts's encoders.
 */
function stamp(request: Uint8Array, seq: number): Uint8Array {
  request[8] = seq;
  request[9] = seq >>> 8;
  request[10] = seq >>> 16;
  request[11] = seq >>> 24;
  return request;
}

// Requests in flight before reading their acks: bounded so the acks cannot
// overflow the socket's receive buffer (the kernel drops them if it does).
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
        if (value !== undefined) values.push(value);
      }
    }
  }

  /**
   * Sends `count` requests that carry NLM_F_ACK and returns each one's
   * answer, in order. `request(k)` builds the k-th when its window is sent
   * (undefined: nothing to send, no answer), so no more than a window of
   * requests exists at a time. The kernel handles each request inside
   * send(), so they take effect in order even though the acks are read afterwards.
   */
  transact(count: number, request: (k: number) => Uint8Array | undefined): (NlError | undefined)[] {
    const answers = new Array<NlError | undefined>(count);
    for (let start = 0; start < count; start += WINDOW) this.window(start, Math.min(count, start + WINDOW), request, answers);
    return answers;
  }

  /** Requests [start, end): all sent, then all their acks read into `answers`. */
  private window(start: number, end: number, request: (k: number) => Uint8Array | undefined, answers: (NlError | undefined)[]): void {
    // Plain loops: callback builtins cost a first-call compile under bun.
    const pending = new Map<number, number>(); // seq -> index in answers
    for (let i = start; i < end; i++) {
      const message = request(i);
      if (message === undefined) continue;
      const seq = this.nextSeq();
      try {
        this.socket.send(stamp(message, seq));
        pending.set(seq, i);
      } catch (err) {
        if (!(err instanceof SyscallError)) throw err;
        answers[i] = { errno: err.errno };
      }
    }
    while (pending.size > 0) {
      let datagram: Uint8Array;
      try {
        datagram = this.socket.recv();
      } catch (err) {
        // No answer (timeout, or acks dropped on overflow): fail what is left.
        if (!(err instanceof SyscallError)) throw err;
        for (const i of pending.values()) answers[i] = { errno: err.errno, message: 'no answer from the kernel' };
        break;
      }
      for (const msg of decodeMessages(datagram)) {
        const i = pending.get(msg.seq);
        if (i === undefined || msg.type !== NLMSG_ERROR) continue;
        answers[i] = decodeError(msg);
        pending.delete(msg.seq);
      }
    }
  }
}
