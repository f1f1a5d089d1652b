import type { Backend } from '../apply/backend';
import type { Addr, Collision, KernelState, Kind, LinkState, Route } from '../convention/types';
import { classify, selectLinks, type Classified } from '../discover/select';
import { discoverLinks } from '../discover/links';
import { planLink } from '../plan/planner';
import { collisionsAmong, refused } from './collisions';
import { readStateNaming, type Context } from './common';
import { planUplinkFor } from './uplink';
import type { UplinkTable } from '../convention/uplink';

export interface InterfaceStatus {
  readonly ifname: string;
  readonly mac: string;
  readonly kind: Kind;
  readonly up: boolean;
  /** The address is absent on a client refused for a collision. */
  readonly expected?: { readonly addr?: Addr; readonly routes: readonly Route[] };
  /** Present when this link's MAC derives the same client address as another link's. */
  readonly collision?: Collision;
  readonly current: LinkState;
  /** Whether `apply` would change anything; absent for links guestnet does not own. */
  readonly drifted?: boolean;
}

/** The VM's `table ip guestnet`: expected (null: none), current, and whether `apply` would change it. */
export interface UplinkStatus {
  readonly expected: UplinkTable | null;
  readonly current: UplinkTable | null;
  readonly drifted: boolean;
  /** Why the table could not be read. */
  readonly error?: string;
}

export interface StatusResult {
  readonly interfaces: readonly InterfaceStatus[];
  readonly uplink: UplinkStatus;
}

/** `guestnet status`: what the convention expects on each link and on the VM, and what the kernel has. */
export async function status(ifaces: readonly string[], backend: Backend, ctx: Context): Promise<StatusResult> {
  const links = discoverLinks(backend, ctx.sysfs);
  const collisions = collisionsAmong(links, ctx.derive);
  const classified = selectLinks(links, ifaces).map((l) => refused(classify(l, ctx.derive), collisions));
  const state = await readStateNaming(backend, classified.map((c) => c.link));
  const { expected, current, steps, error } = await planUplinkFor(links, backend, ctx);
  const drifted = steps.length > 0 || error !== undefined;
  const uplink = { expected, current, drifted, ...(error === undefined ? {} : { error }) };
  return { interfaces: interfaceStatus(classified, state, ctx), uplink };
}

function interfaceStatus(classified: readonly Classified[], state: KernelState, ctx: Context): InterfaceStatus[] {
  return classified.map(({ link, kind, desired }) => {
    const current = state.links.get(link.name) ?? { addrs: [], routes: [] };
    const base = { ifname: link.name, mac: link.mac, kind, up: link.up, current };
    if (!desired) return base;
    const drifted = planLink(link, desired, current, ctx.derive).length > 0;
    const collision = desired.collision ? { collision: desired.collision } : {};
    return { ...base, expected: { addr: desired.addr, routes: desired.routes }, drifted, ...collision };
  });
}
