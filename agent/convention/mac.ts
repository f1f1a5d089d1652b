import { UsageError } from '../errors';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Parses "0A:B3:EC:00:A5:46" (either case, ':' or '-') into its six octets. */
export function parseMac(text: string): Uint8Array {
  const mac = text.trim().toLowerCase().replace(/-/g, ':');
  if (!MAC_RE.test(mac)) {
    throw new UsageError(`malformed MAC address "${text}" (expected six hex octets like 0a:b3:ec:00:a5:46)`);
  }
  // Plain loops: under bun the first Uint8Array.from / Array.from with a
  // mapping function compiles that builtin, ~0.7 M and ~0.3 M instructions
  // of a start-up that classifies links or prints a MAC.
  const octets = new Uint8Array(6);
  for (let i = 0; i < 6; i++) octets[i] = parseInt(mac.slice(3 * i, 3 * i + 2), 16);
  return octets;
}

export function formatMac(octets: Uint8Array): string {
  const hex: string[] = [];
  for (const o of octets) hex.push(o.toString(16).padStart(2, '0'));
  return hex.join(':');
}
