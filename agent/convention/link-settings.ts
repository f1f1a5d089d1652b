import { PROVIDER_GROUP } from './provider-group';

// What guestnet sets on a provider link itself, beside its address and
// route (SPEC §9): the link group that names it a provider link to the
// firewall's rules (`meta iifgroup`), and three per-link sysctls. Pure data.

/** A per-link sysctl, as `FAMILY/NAME` under /proc/sys/net/FAMILY/conf/IF/. */
export type LinkSysctl = 'ipv4/rp_filter' | 'ipv6/accept_ra' | 'ipv6/autoconf';

export const LINK_SYSCTLS: readonly LinkSysctl[] = ['ipv4/rp_filter', 'ipv6/accept_ra', 'ipv6/autoconf'];

/** A sysctl's value as /proc/sys prints it, without the newline. */
export type SysctlValues = Partial<Readonly<Record<LinkSysctl, string>>>;

export interface LinkSettings {
  /** IFLA_GROUP; 0 is the kernel's default group. */
  readonly group: number;
  readonly sysctls: Readonly<Record<LinkSysctl, string>>;
}

/**
 * Strict reverse path (the kernel then also ignores ARP requests whose
 * sender has no route through the link, so forged senders leave no
 * neighbour entries); no router advertisements and no autoconfiguration
 * from a client.
 */
export const PROVIDER_SETTINGS: LinkSettings = {
  group: PROVIDER_GROUP,
  sysctls: { 'ipv4/rp_filter': '1', 'ipv6/accept_ra': '0', 'ipv6/autoconf': '0' },
};

/** The group a link returns to when guestnet lets it go. */
export const DEFAULT_GROUP = 0;

/** `net/ipv4/conf/IF/rp_filter`: the path under /proc/sys, also a key `sysctl -w` takes. */
export function sysctlPath(ifname: string, sysctl: LinkSysctl): string {
  const [family, name] = sysctl.split('/');
  return `net/${family}/conf/${ifname}/${name}`;
}
