import { ownsAddr, ownsRoute } from '../convention/ownership';
import type { Addr, DeriveOptions, Desired, KernelState, Link, LinkState, Route } from '../convention/types';
import type { Step } from './steps';

// Pure: current state + desired state -> ordered steps. No I/O.

const NO_STATE: LinkState = { addrs: [], routes: [] };

export function sameAddr(a: Addr, b: Addr): boolean {
  return a.address === b.address && a.prefix === b.prefix;
}

export function sameRoute(a: Route, b: Route): boolean {
  return a.dst === b.dst && a.via === b.via && a.metric === b.metric;
}

/**
 * Steps for one link: link up, stale owned routes out, the address in, stale
 * owned addresses out, then host route and default route (SPEC §3). The new
 * address goes in before the old one goes: removing a link's last IPv4
 * address makes the kernel flush every route through it, so a prefix or
 * gateway change would otherwise lose the routes it keeps.
 */
export function planLink(link: Link, desired: Desired, current: LinkState, options: DeriveOptions): Step[] {
  const ifname = link.name;
  const steps: Step[] = [];
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

/** The whole plan: every target link, then forwarding if a provider link needs it. */
export function planApply(targets: readonly Target[], state: KernelState, options: DeriveOptions): Step[] {
  const steps = targets.flatMap((t) => planLink(t.link, t.desired, state.links.get(t.link.name) ?? NO_STATE, options));
  if (!state.forwarding && targets.some((t) => t.desired.role === 'provider')) steps.push({ action: 'forwarding-on' });
  return steps;
}

/** Removes exactly what guestnet owns on these links (routes first, then addresses). */
export function planFlush(links: readonly Link[], state: KernelState, options: DeriveOptions): Step[] {
  return links.flatMap((link) => {
    const current = state.links.get(link.name) ?? NO_STATE;
    const ifname = link.name;
    return [
      ...current.routes.filter((r) => ownsRoute(r, options)).map((route): Step => ({ action: 'route-del', ifname, route })),
      ...current.addrs.filter((a) => ownsAddr(a, options)).map((addr): Step => ({ action: 'addr-del', ifname, addr })),
    ];
  });
}
