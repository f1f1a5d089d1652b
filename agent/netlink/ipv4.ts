// IPv4 addresses as rtnetlink carries them: 4 bytes in network order.
import type { Attr } from './message';

/** Dotted quad to 4 network-order bytes; throws on anything else. */
export function encodeIpv4(s: string): Uint8Array {
  // A hand-rolled scanner: regexes and Array builtins cost ~0.5 ms on their
  // first call under bun, which a one-shot boot-time run pays every time.
  const out = new Uint8Array(4);
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // a final '.' closes the last part
    if (c >= 48 && c <= 57 && digits < 3 && !(digits === 1 && value === 0)) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && value <= 255 && part < 4) {
      out[part++] = value;
      value = 0;
      digits = 0;
    } else {
      part = -1;
      break;
    }
  }
  if (part !== 4) throw new Error(`invalid IPv4 address "${s}"`);
  return out;
}

export function decodeIpv4(b: Uint8Array): string {
  if (b.length < 4) throw new Error(`netlink: truncated IPv4 address (${b.length} bytes)`);
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

export function ipv4Attr(type: number, address: string): Attr {
  return { type, data: encodeIpv4(address) };
}
