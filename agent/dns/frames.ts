// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message behind a 2-byte
// length. Pure: bytes in, whole messages out, so a connection's memory is
// bounded by one message (the length cannot say more than 65,535).

import { HEADER_LENGTH } from './wire';

export type Frames =
  | { readonly kind: 'ok'; readonly messages: readonly Uint8Array[]; readonly rest: Uint8Array }
  /** A length too short for a header: not DNS, the connection is closed. */
  | { readonly kind: 'garbage' };

/** Splits what a connection has sent so far into whole messages and the incomplete rest. */
export function splitFrames(buffered: Uint8Array): Frames {
  const messages: Uint8Array[] = [];
  let at = 0;
  while (buffered.length - at >= 2) {
    const length = (buffered[at] << 8) | buffered[at + 1];
    if (length < HEADER_LENGTH) return { kind: 'garbage' };
    if (buffered.length - at - 2 < length) break;
    messages.push(buffered.slice(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return { kind: 'ok', messages, rest: buffered.slice(at) };
}

/** One message with its length in front. */
export function frame(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + msg.length);
  out[0] = msg.length >> 8;
  out[1] = msg.length & 0xff;
  out.set(msg, 2);
  return out;
}

/** Appends a chunk to what is buffered (a fresh array: chunks are the runtime's to reuse). */
export function append(buffered: Uint8Array, chunk: Uint8Array): Uint8Array {
  const out = new Uint8Array(buffered.length + chunk.length);
  out.set(buffered);
  out.set(chunk, buffered.length);
  return out;
}
