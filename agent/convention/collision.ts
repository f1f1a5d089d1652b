import type { Collision, Desired } from './types';

// Client addresses that two links would claim. The address is 100.64.PP.QQ
// from the MAC's last two octets, and the scheme reads only part of the
// rest (oui: the role bit of octet 4; laa: octets 1-2), so two links whose
// MACs differ elsewhere derive the same address (0a:b3:ec:80:00:11 and
// 0a:b3:ec:81:00:11 both stand for 100.64.0.17). Two providers would both
// route it, two clients both hold it, and the last one configured would
// silently win. Like duplicate address detection, neither gets it. Pure.

/** What two links must share to collide: their role and client address. */
export function claimOf(d: Desired): string {
  return `${d.role} ${d.client}`;
}

/** The collision of the links making one claim. */
export function collisionOf(claim: string, ifnames: Iterable<string>): Collision {
  const [role, address] = claim.split(' ') as [Desired['role'], string];
  return { address, role, ifnames: [...ifnames].sort() };
}

/** Collisions among these links, by interface name: each colliding link maps to its collision. */
export function findCollisions(desired: Iterable<Desired>): Map<string, Collision> {
  const byClaim = new Map<string, string[]>();
  for (const d of desired) {
    const names = byClaim.get(claimOf(d));
    if (names) names.push(d.ifname);
    else byClaim.set(claimOf(d), [d.ifname]);
  }
  const found = new Map<string, Collision>();
  for (const [claim, names] of byClaim) {
    if (names.length < 2) continue;
    const collision = collisionOf(claim, names);
    for (const name of names) found.set(name, collision);
  }
  return found;
}

/**
 * What a colliding link may still have: a provider keeps the gateway
 * address and loses the route to the client; a client gets no address and
 * no routes (a default route through a link without its address would
 * send traffic out with another link's source).
 */
export function refuse(d: Desired, collision: Collision): Desired {
  if (d.role === 'provider') return { ...d, routes: [], collision };
  return { ifname: d.ifname, role: d.role, client: d.client, routes: [], collision };
}

/** The one line a colliding link fails with, naming every link and the address. */
export function collisionText(c: Collision): string {
  const names = `${c.ifnames.slice(0, -1).join(', ')} and ${c.ifnames[c.ifnames.length - 1]}`;
  const what = c.role === 'provider' ? 'a route to it' : 'it';
  return `${c.role} links ${names} derive the same client address ${c.address} from their MACs: none gets ${what} while more than one is there`;
}
