// The sysctls of a link that its RTM_NEWLINK message carries (IFLA_AF_SPEC:
// per address family, the whole devconf array), so the netlink backend
// reads them with the link instead of opening three /proc/sys files a link
// (the first open of a new link's files is the costly part of a boot apply).
import type { LinkSysctl, SysctlValues } from '../convention/link-settings';
import { getI32 } from './bytes';
import { decodeAttrs } from './message';

const AF_INET = 2;
const AF_INET6 = 10;
const IFLA_INET_CONF = 1;
const IFLA_INET6_CONF = 2;

// Index into each family's array of 32-bit values: IPv4 indexes from
// IPV4_DEVCONF_FORWARDING = 1 (so RP_FILTER, 8, is the 8th value); IPv6
// from DEVCONF_FORWARDING = 0.
const IPV4_CONF: readonly [LinkSysctl, number][] = [['ipv4/rp_filter', 8 - 1]];
const IPV6_CONF: readonly [LinkSysctl, number][] = [['ipv6/accept_ra', 3], ['ipv6/autoconf', 5]];

function readConf(out: { [K in LinkSysctl]?: string }, conf: Uint8Array | undefined, wanted: readonly [LinkSysctl, number][]): void {
  if (!conf) return; // the family is off on this link (no IPv6 below MTU 1280): nothing to set, as in /proc/sys
  for (const [sysctl, index] of wanted) {
    if (conf.length >= 4 * (index + 1)) out[sysctl] = String(getI32(conf, 4 * index));
  }
}

/** The sysctls of LINK_SYSCTLS in an IFLA_AF_SPEC attribute, as /proc/sys prints them. */
export function decodeAfSpec(spec: Uint8Array): SysctlValues {
  const families = decodeAttrs(spec, 0);
  const out: { [K in LinkSysctl]?: string } = {};
  const inet = families.get(AF_INET);
  const inet6 = families.get(AF_INET6);
  readConf(out, inet && decodeAttrs(inet, 0).get(IFLA_INET_CONF), IPV4_CONF);
  readConf(out, inet6 && decodeAttrs(inet6, 0).get(IFLA_INET6_CONF), IPV6_CONF);
  return out;
}
