import type { Backend } from '../apply/backend';
import type { Addr, Kind, LinkState, Route } from '../convention/types';
import { classify, selectLinks } from '../discover/select';
import { discoverLinks } from '../discover/links';
import { planLink } from '../plan/planner';
import { readStateNaming, type Context } from './common';

export interface InterfaceStatus {
  readonly ifname: string;
  readonly mac: string;
  readonly kind: Kind;
  readonly up: boolean;
  readonly expected?: { readonly addr: Addr; readonly routes: readonly Route[] };
  readonly current: LinkState;
  /** Whether `apply` would change anything; absent for links guestnet does not own. */
  readonly drifted?: boolean;
}

/** `guestnet status`: what the convention expects on each link and what the kernel has. */
export async function status(ifaces: readonly string[], backend: Backend, ctx: Context): Promise<InterfaceStatus[]> {
  const classified = selectLinks(discoverLinks(backend, ctx.sysfs), ifaces).map((l) => classify(l, ctx.derive));
  const state = await readStateNaming(backend, classified.map((c) => c.link));
  return classified.map(({ link, kind, desired }) => {
    const current = state.links.get(link.name) ?? { addrs: [], routes: [] };
    const base = { ifname: link.name, mac: link.mac, kind, up: link.up, current };
    if (!desired) return base;
    const drifted = planLink(link, desired, current, ctx.derive).length > 0;
    return { ...base, expected: { addr: desired.addr, routes: desired.routes }, drifted };
  });
}
