import { firstLine, GATEWAY, sh, type BenchLink } from './common';

// Whether a run did its job: exit codes, then the kernel state it left,
// read back with `ip -j` and compared line by line with what SPEC §3 asks.

/** What a correct run leaves, normalized like `readState`. */
function expectedState(links: readonly BenchLink[]): string[] {
  return links
    .flatMap((l) =>
      l.role === 'client'
        ? [`addr ${l.name} ${l.client}/32`, `route ${GATEWAY}/32 dev ${l.name} metric ${l.metric}`,
           `route default via ${GATEWAY} dev ${l.name} metric ${l.metric}`]
        : [`addr ${l.name} ${GATEWAY}/32`, `route ${l.client}/32 dev ${l.name} metric 0`],
    )
    .sort();
}

interface IpAddrJson {
  ifname: string;
  addr_info: { local: string; prefixlen: number }[];
}

interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev: string;
  metric?: number;
}

/** The namespace's IPv4 addresses and main-table routes, one string each, sorted. */
function readState(ns: string): string[] {
  const addrs = JSON.parse(sh('ip', ['-n', ns, '-j', '-4', 'addr', 'show'])) as IpAddrJson[];
  const routes = JSON.parse(sh('ip', ['-n', ns, '-j', '-4', 'route', 'show', 'table', 'main'])) as IpRouteJson[];
  return [
    ...addrs.flatMap((l) => l.addr_info.map((a) => `addr ${l.ifname} ${a.local}/${a.prefixlen}`)),
    ...routes.map((r) => {
      const dst = r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/32`;
      return `route ${dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev} metric ${r.metric ?? 0}`;
    }),
  ]
    .filter((s) => !s.startsWith('addr lo '))
    .sort();
}

/** Why a run is not correct (exit codes, then kernel state), or undefined. */
export function verdict(codes: readonly number[], stderr: string, ns: string, links: readonly BenchLink[], forwarding: boolean): string | undefined {
  const bad = codes.find((c) => c !== 0);
  if (bad !== undefined) return `exit ${bad}: ${firstLine(stderr) || 'no message'}`;
  const want = expectedState(links);
  const got = readState(ns);
  const missing = want.filter((s) => !got.includes(s));
  const extra = got.filter((s) => !want.includes(s));
  if (missing.length || extra.length) {
    return `wrong state (${missing.length} missing, e.g. "${missing[0] ?? ''}"; ${extra.length} extra, e.g. "${extra[0] ?? ''}")`;
  }
  const fwd = sh('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ip_forward']).trim() === '1';
  if (forwarding && links.some((l) => l.role === 'provider') && !fwd) return 'ip_forward not enabled';
  return undefined;
}
