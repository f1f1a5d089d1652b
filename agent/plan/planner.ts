import { DEFAULT_GROUP, LINK_SYSCTLS } from '../convention/link-settings';
import { ownsAddr, ownsRoute } from '../convention/ownership';
import { PROVIDER_GROUP } from '../convention/provider-group';
import type { Addr, DeriveOptions, Desired, KernelState, Link, LinkState, Route } from '../convention/types';
import type { Step, SysctlSetting } from './steps';

// Pure: current state + desired state -> ordered steps. No I/O.

const NO_STATE: LinkState = { addrs: [], routes: [] };

export function sameAddr(a: Addr, b: Addr): boolean {
  return a.address === b.address && a.prefix === b.prefix;
}

export function sameRoute(a: Route, b: Route): boolean {
  return a.dst === b.dst && a.via === b.via && a.metric === b.metric;
}

/**
 * The link's own settings that differ from the wanted ones, before it comes
 * up (a link that is down passes no traffic). A sysctl the kernel does not
 * have for the link (no IPv6 on it) is nothing to set.
 */
function planSettings(link: Link, desired: Desired, current: LinkState): Step | undefined {
  const want = desired.settings;
  if (!want) return undefined;
  const sysctls: SysctlSetting[] = [];
  for (const sysctl of LINK_SYSCTLS) {
    const now = current.sysctls?.[sysctl];
    if (now !== undefined && now !== want.sysctls[sysctl]) sysctls.push({ sysctl, value: want.sysctls[sysctl] });
  }
  const group = link.group === want.group ? {} : { group: want.group };
  if (sysctls.length === 0 && group.group === undefined) return undefined;
  return { action: 'link-set', ifname: link.name, ...group, sysctls };
}

/**
 * Steps for one link: its settings (provider links), link up, stale owned routes out, the address in, stale
 * owned addresses out, then host route and default route (SPEC §3). The new
 * address goes in before the old one goes: removing a link's last IPv4
 * address makes the kernel flush every route through it, so a prefix or
 * gateway change would otherwise lose the routes it keeps.
 */
export function planLink(link: Link, desired: Desired, current: LinkState, options: DeriveOptions): Step[] {
  const ifname = link.name;
  const steps: Step[] = [];
  const settings = planSettings(link, desired, current);
  if (settings) steps.push(settings);
  if (!link.up) steps.push({ action: 'link-up', ifname });
  for (const route of current.routes) {
    if (ownsRoute(route, options) && !desired.routes.some((r) => sameRoute(r, route))) {
      steps.push({ action: 'route-del', ifname, route });
    }
  }
  const wanted = desired.addr;
  if (wanted && !current.addrs.some((a) => sameAddr(a, wanted))) {
    steps.push({ action: 'addr-add', ifname, addr: wanted });
  }
  for (const addr of current.addrs) {
    if (ownsAddr(addr, options) && !(wanted && sameAddr(addr, wanted))) steps.push({ action: 'addr-del', ifname, addr });
  }
  for (const route of desired.routes) {
    if (!current.routes.some((r) => sameRoute(r, route))) steps.push({ action: 'route-add', ifname, route });
  }
  return steps;
}

export interface Target {
  readonly link: Link;
  readonly desired: Desired;
}

/**
 * The whole plan for these links. Forwarding is not a link's: it follows the
 * firewall table (commands/uplink.ts), so it is never on without it.
 */
export function planApply(targets: readonly Target[], state: KernelState, options: DeriveOptions): Step[] {
  return targets.flatMap((t) => planLink(t.link, t.desired, state.links.get(t.link.name) ?? NO_STATE, options));
}

/**
 * Removes exactly what guestnet owns on these links (routes first, then
 * addresses, then guestnet's link group). The sysctls stay as they are:
 * guestnet does not know what they were before, and a flushed link keeps
 * the safer ones.
 */
export function planFlush(links: readonly Link[], state: KernelState, options: DeriveOptions): Step[] {
  return links.flatMap((link) => {
    const current = state.links.get(link.name) ?? NO_STATE;
    const ifname = link.name;
    const group: Step[] = link.group === PROVIDER_GROUP ? [{ action: 'link-set', ifname, group: DEFAULT_GROUP, sysctls: [] }] : [];
    return [
      ...current.routes.filter((r) => ownsRoute(r, options)).map((route): Step => ({ action: 'route-del', ifname, route })),
      ...current.addrs.filter((a) => ownsAddr(a, options)).map((addr): Step => ({ action: 'addr-del', ifname, addr })),
      ...group,
    ];
  });
}
