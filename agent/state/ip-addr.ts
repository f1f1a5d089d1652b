import type { Addr } from '../convention/types';

/**
 * Parses `ip -o -4 addr show` output, which iproute2 and busybox print alike:
 *   3: v0    inet 100.64.165.70/32 scope global v0\       valid_lft ...
 */
export function parseIpAddrOneline(text: string): Map<string, Addr[]> {
  const byIf = new Map<string, Addr[]>();
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+([\d.]+)\/(\d+)/.exec(line);
    if (!m) continue;
    const addr: Addr = { address: m[2], prefix: Number(m[3]) };
    byIf.set(m[1], [...(byIf.get(m[1]) ?? []), addr]);
  }
  return byIf;
}
