import type { Addr, Route } from '../convention/types';

// Parses what `ip -4 -j -N -batch -` prints for `addr show` and
// `route show table main`: one JSON array a command, one line each (JSON
// strings escape newlines). -N keeps protocols numeric: a name in
// rt_protos must not hide guestnet's mark.

interface JsonAddrInfo {
  readonly family?: string;
  readonly local?: string;
  readonly prefixlen?: number;
  readonly protocol?: string;
}
interface JsonLink {
  readonly ifname: string;
  readonly addr_info?: readonly JsonAddrInfo[];
}
interface JsonRoute {
  readonly type?: string;
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly metric?: number;
  readonly protocol?: string;
}

const RTN_UNICAST = '1';

/**
 * iproute2's own names for the protocols ownership tells apart, should an
 * `ip` print names despite -N; any other name (rt_protos: bird, dhcp...)
 * is some other program's protocol, read as NAMED_ELSEWHERE.
 */
const PROTOCOL_NAMES: Readonly<Record<string, number>> = { unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4 };
const NAMED_ELSEWHERE = -1;

function protoOf(text: string | undefined): { proto?: number } {
  if (text === undefined) return {};
  return { proto: /^\d+$/.test(text) ? Number(text) : (PROTOCOL_NAMES[text] ?? NAMED_ELSEWHERE) };
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  map.set(key, [...(map.get(key) ?? []), value]);
}

/** IPv4 addresses per interface name, with IFA_PROTO where iproute2 (>= 6.2) prints it. */
export function parseIpJsonAddrs(text: string): Map<string, Addr[]> {
  const byIf = new Map<string, Addr[]>();
  for (const link of JSON.parse(text) as JsonLink[]) {
    for (const a of link.addr_info ?? []) {
      if (a.family !== 'inet' || a.local === undefined || a.prefixlen === undefined) continue;
      push(byIf, link.ifname, { address: a.local, prefix: a.prefixlen, ...protoOf(a.protocol) });
    }
  }
  return byIf;
}

/** Unicast routes through one interface per name (multipath, blackhole and the like are skipped). */
export function parseIpJsonRoutes(text: string): Map<string, Route[]> {
  const byIf = new Map<string, Route[]>();
  for (const r of JSON.parse(text) as JsonRoute[]) {
    if ((r.type !== undefined && r.type !== RTN_UNICAST && r.type !== 'unicast') || r.dev === undefined) continue;
    const dst = r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    const via = r.gateway === undefined ? {} : { via: r.gateway };
    push(byIf, r.dev, { dst, ...via, metric: r.metric ?? 0, ...protoOf(r.protocol) });
  }
  return byIf;
}

/** The two arrays one `ip -4 -j -N -batch -` run prints, in command order. */
export function splitJsonLines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}
