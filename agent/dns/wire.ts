// The few facts of a DNS message (RFC 1035 §4.1) a forwarder needs, read
// and written on bytes. Pure: no sockets here, tested under node.
// Messages are relayed unchanged apart from the 16-bit ID; everything past
// the question section is never parsed.

export const HEADER_LENGTH = 12;
/** A DNS message over TCP is at most this long (the 2-byte length prefix). */
export const MAX_MESSAGE = 0xffff;
/** RCODEs (RFC 1035 §4.1.1) the forwarder acts on. */
export const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4, refused: 5 } as const;

const QR = 0x80; // byte 2
const OPCODE = 0x78; // byte 2
const RD = 0x01; // byte 2
const RA = 0x80; // byte 3
const MAX_NAME = 255;

export interface Query {
  readonly id: number;
  /** The question section's bytes (name, type, class), compared with the answer's. */
  readonly question: Uint8Array;
}

const u16 = (msg: Uint8Array, at: number): number => (msg[at] << 8) | msg[at + 1];

export const idOf = (msg: Uint8Array): number => u16(msg, 0);
export const isResponse = (msg: Uint8Array): boolean => (msg[2] & QR) !== 0;
export const rcodeOf = (msg: Uint8Array): number => msg[3] & 0x0f;

/**
 * Sets the ID in place and returns `msg`: a relayed message is written just
 * before it is sent (sending copies), so no copy per hop is needed.
 */
export function setId(msg: Uint8Array, id: number): Uint8Array {
  msg[0] = id >> 8;
  msg[1] = id & 0xff;
  return msg;
}

/**
 * The end of the question section's one entry (an uncompressed name, type,
 * class), or -1 when the bytes do not hold one.
 */
function questionEnd(msg: Uint8Array): number {
  let at = HEADER_LENGTH;
  let nameLength = 0;
  for (;;) {
    if (at >= msg.length) return -1;
    const label = msg[at];
    if (label === 0) break;
    if (label > 63) return -1; // a pointer or a reserved label type: not in a query's question
    nameLength += label + 1;
    if (nameLength > MAX_NAME) return -1;
    at += label + 1;
  }
  const end = at + 1 + 4;
  return end <= msg.length ? end : -1;
}

/** The question section's bytes, or undefined when there is not exactly one well-formed question. */
function questionOf(msg: Uint8Array): Uint8Array | undefined {
  if (msg.length < HEADER_LENGTH || u16(msg, 4) !== 1) return undefined;
  const end = questionEnd(msg);
  return end < 0 ? undefined : msg.subarray(HEADER_LENGTH, end);
}

/**
 * A client's query worth forwarding: a well-formed header that is a query
 * (QR clear) with exactly one question. Anything else is undefined and is
 * dropped without an answer (no reflection off garbage).
 */
export function parseQuery(msg: Uint8Array): Query | undefined {
  if (msg.length < HEADER_LENGTH || msg.length > MAX_MESSAGE || isResponse(msg)) return undefined;
  const question = questionOf(msg);
  return question && { id: idOf(msg), question };
}

/**
 * An upstream's answer belongs to a pending query when it is a response
 * with the ID we sent and the same question (case included: upstreams echo
 * it as asked), as unbound and dnsmasq check.
 */
export function answers(msg: Uint8Array, id: number, question: Uint8Array): boolean {
  if (msg.length < HEADER_LENGTH || !isResponse(msg) || idOf(msg) !== id || u16(msg, 4) !== 1) return false;
  // Compared where it lies: no view of the answer is made for every answer.
  if (questionEnd(msg) !== HEADER_LENGTH + question.length) return false;
  for (let i = 0; i < question.length; i++) if (msg[HEADER_LENGTH + i] !== question[i]) return false;
  return true;
}

/** The answer a client gets when no upstream could help: its ID and question, RCODE SERVFAIL. */
export function servfail(query: Uint8Array, q: Query): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH + q.question.length);
  setId(out, q.id);
  out[2] = QR | (query[2] & (OPCODE | RD));
  out[3] = RA | RCODE.servFail;
  out[5] = 1; // QDCOUNT
  out.set(q.question, HEADER_LENGTH);
  return out;
}

/** An upstream's RCODE that means "ask the next one" (unbound and dnsmasq do the same). */
export const refuses = (msg: Uint8Array): boolean => {
  const rcode = rcodeOf(msg);
  return rcode === RCODE.servFail || rcode === RCODE.refused || rcode === RCODE.notImp;
};

const RCODE_NAMES: Readonly<Record<number, string>> = { 2: 'SERVFAIL', 4: 'NOTIMP', 5: 'REFUSED' };

/** What an upstream that refused said, for the log and the state file. */
export const refusal = (msg: Uint8Array): string => `answered ${RCODE_NAMES[rcodeOf(msg)] ?? `RCODE ${rcodeOf(msg)}`}`;
