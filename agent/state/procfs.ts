import { readText } from '../io/files';
import { LINK_SYSCTLS, sysctlPath, type LinkSysctl, type SysctlValues } from '../convention/link-settings';
import type { Route } from '../convention/types';
import { FALLBACK_CONNTRACK_MAX, kernelConntrackMax } from '../convention/boundary';

// Readers that need no subprocess: IPv4 routes of the main table from
// /proc/net/route, the forwarding switch and per-link sysctls from /proc/sys.

const RTF_UP = 0x1;

/** /proc/net/route prints addresses as host-order (little-endian) hex. */
function hexToIPv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

function maskToPrefix(hex: string): number {
  let n = parseInt(hex, 16) >>> 0;
  let bits = 0;
  for (; n !== 0; n >>>= 1) bits += n & 1;
  return bits;
}

/** Parses /proc/net/route text into routes keyed by interface name. */
export function parseProcRoutes(text: string): Map<string, Route[]> {
  const byIf = new Map<string, Route[]>();
  for (const line of text.split('\n').slice(1)) {
    const [iface, dest, gateway, flags, , , metric, mask] = line.trim().split(/\s+/);
    if (!mask || (parseInt(flags, 16) & RTF_UP) === 0) continue;
    const prefix = maskToPrefix(mask);
    const dst = prefix === 0 ? 'default' : `${hexToIPv4(dest)}/${prefix}`;
    const via = gateway === '00000000' ? undefined : hexToIPv4(gateway);
    const route: Route = via === undefined ? { dst, metric: Number(metric) } : { dst, via, metric: Number(metric) };
    byIf.set(iface, [...(byIf.get(iface) ?? []), route]);
  }
  return byIf;
}

export function readProcRoutes(path = '/proc/net/route'): Map<string, Route[]> {
  return parseProcRoutes(readText(path));
}

export const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

export function readForwarding(path = IP_FORWARD): boolean {
  return readText(path).trim() === '1';
}

/**
 * nf_conntrack_max, or what Linux will set it to when nf_conntrack loads
 * (from MemTotal), or a fixed fallback: what `--client-flow-limit auto` is
 * derived from. The table's first ct rule loads the module, so this answers
 * the same before and after.
 */
export function readConntrackMax(dir = '/proc'): number {
  try {
    return Number(readText(`${dir}/sys/net/netfilter/nf_conntrack_max`).trim());
  } catch {
    // not loaded yet
  }
  try {
    const kib = /^MemTotal:\s+(\d+) kB/m.exec(readText(`${dir}/meminfo`));
    if (kib) return kernelConntrackMax(Number(kib[1]) * 1024);
  } catch {
    // no /proc/meminfo: the fallback
  }
  return FALLBACK_CONNTRACK_MAX;
}

export const PROC_SYS = '/proc/sys';

/**
 * A link's sysctls guestnet sets (LINK_SYSCTLS); one whose file does not
 * exist is left out: a link without IPv6 (disabled at boot, an MTU below
 * 1280) has no net/ipv6/conf/IF.
 */
export function readLinkSysctls(ifname: string, root = PROC_SYS): SysctlValues {
  const values: { [K in LinkSysctl]?: string } = {};
  for (const sysctl of LINK_SYSCTLS) {
    try {
      values[sysctl] = readText(`${root}/${sysctlPath(ifname, sysctl)}`).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return values;
}
