import { UsageError } from '../errors';

/** Parses "0A:B3:EC:00:A5:46" (either case, ':' or '-') into its six octets. */
export function parseMac(text: string): Uint8Array {
  // Scanned by hand, not with a regex, split and parseInt: discovery parses
  // every link's MAC while the code is still cold (a boot-time run).
  const mac = text.trim();
  const octets = new Uint8Array(6);
  let i = 0;
  while (mac.length === 17 && i < 6) {
    const hi = hexDigit(mac.charCodeAt(3 * i));
    const lo = hexDigit(mac.charCodeAt(3 * i + 1));
    const sep = i < 5 ? mac.charCodeAt(3 * i + 2) : 58;
    if (hi < 0 || lo < 0 || (sep !== 58 && sep !== 45)) break; // ':' or '-'
    octets[i++] = 16 * hi + lo;
  }
  if (i < 6) throw new UsageError(`malformed MAC address "${text}" (expected six hex octets like 0a:b3:ec:00:a5:46)`);
  return octets;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

export function formatMac(octets: Uint8Array): string {
  return Array.from(octets, (o) => o.toString(16).padStart(2, '0')).join(':');
}
