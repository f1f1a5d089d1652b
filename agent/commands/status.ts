import type { Backend } from '../apply/backend';
import type { LinkSettings } from '../convention/link-settings';
import type { Addr, Collision, KernelState, Kind, LinkState, Route } from '../convention/types';
import { classify, selectLinks, type Classified } from '../discover/select';
import { discoverLinks } from '../discover/links';
import { planLink } from '../plan/planner';
import { collisionsAmong, refused } from './collisions';
import { readStateNaming, type Context } from './common';
import { planUplinkFor } from './uplink';
import { readDnsFacts, type DnsFacts } from '../dns/state';
import { rulesText } from '../nft/script';

export interface InterfaceStatus {
  readonly ifname: string;
  readonly mac: string;
  readonly kind: Kind;
  readonly up: boolean;
  /** The link's group now. */
  readonly group: number;
  /** The address is absent on a client refused for a collision; `settings`: a provider link's group and sysctls. */
  readonly expected?: { readonly addr?: Addr; readonly routes: readonly Route[]; readonly settings?: LinkSettings };
  /** Present when this link's MAC derives the same client address as another link's. */
  readonly collision?: Collision;
  readonly current: LinkState;
  /** Whether `apply` would change anything; absent for links guestnet does not own. */
  readonly drifted?: boolean;
}

/** The VM's firewall, `table inet guestnet`: whether it is wanted, there, and what `apply` would change. */
export interface UplinkStatus {
  /** The wanted rules as nft prints them, `chain: rule`; null: no table wanted. */
  readonly expected: readonly string[] | null;
  /** Whether the kernel holds table inet guestnet (null: unreadable). */
  readonly present: boolean | null;
  /** Whether the `table ip guestnet` of an earlier release is still there. */
  readonly legacy: boolean;
  readonly drifted: boolean;
  /** Why it differs from the expected table. */
  readonly drift?: string;
  /** Why the table could not be read. */
  readonly error?: string;
}

export interface StatusResult {
  readonly interfaces: readonly InterfaceStatus[];
  readonly uplink: UplinkStatus;
  /** The provider's resolver, on a VM that wants the firewall or where one runs. */
  readonly dns?: DnsFacts;
}

/** `guestnet status`: what the convention expects on each link and on the VM, and what the kernel has. */
export async function status(ifaces: readonly string[], backend: Backend, ctx: Context): Promise<StatusResult> {
  const links = discoverLinks(backend, ctx.sysfs);
  const collisions = collisionsAmong(links, ctx.derive);
  const classified = selectLinks(links, ifaces).map((l) => refused(classify(l, ctx.derive), collisions));
  const state = await readStateNaming(backend, classified.map((c) => c.link));
  const { expected, current, steps, drift, error } = await planUplinkFor(links, backend, ctx);
  const uplink: UplinkStatus = {
    expected: expected && rulesText(expected),
    present: current && current.table !== undefined,
    legacy: current?.legacy ?? false,
    drifted: steps.length > 0 || error !== undefined,
    ...(drift === undefined ? {} : { drift }),
    ...(error === undefined ? {} : { error }),
  };
  const dns = readDnsFacts();
  const resolver = dns.running || expected !== null ? { dns } : {};
  return { interfaces: interfaceStatus(classified, state, ctx), uplink, ...resolver };
}

function interfaceStatus(classified: readonly Classified[], state: KernelState, ctx: Context): InterfaceStatus[] {
  return classified.map(({ link, kind, desired }) => {
    const current = state.links.get(link.name) ?? { addrs: [], routes: [] };
    const base = { ifname: link.name, mac: link.mac, kind, up: link.up, group: link.group, current };
    if (!desired) return base;
    const drifted = planLink(link, desired, current, ctx.derive).length > 0;
    const settings = desired.settings ? { settings: desired.settings } : {};
    const collision = desired.collision ? { collision: desired.collision } : {};
    return { ...base, expected: { addr: desired.addr, routes: desired.routes, ...settings }, drifted, ...collision };
  });
}
