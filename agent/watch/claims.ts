import { claimOf, collisionOf } from '../convention/collision';
import type { Collision, DeriveOptions, Link } from '../convention/types';
import { classify } from '../discover/select';

// The watcher's view of which links claim each client address, kept link
// by link as its snapshot changes, so an event costs the same however many
// links the VM holds: a MAC parse for the link, a look-up for its partners.

export class Claims {
  /** "role address" -> the links claiming it, ifindex -> name. */
  private readonly byKey = new Map<string, Map<number, string>>();
  private readonly keyOf = new Map<number, string>();
  /** Links whose collision began or ended: they need configuring again. */
  private touched = new Set<number>();

  constructor(private readonly options: DeriveOptions) {}

  track(link: Link): void {
    const desired = classify(link, this.options).desired;
    const key = desired && claimOf(desired);
    if (key !== undefined && this.keyOf.get(link.ifindex) === key && this.byKey.get(key)?.get(link.ifindex) === link.name) return;
    this.forget(link.ifindex);
    if (key === undefined) return;
    const group = this.byKey.get(key) ?? new Map<number, string>();
    this.byKey.set(key, group);
    this.keyOf.set(link.ifindex, key);
    group.set(link.ifindex, link.name);
    if (group.size > 1) for (const i of group.keys()) this.touched.add(i);
  }

  forget(ifindex: number): void {
    const key = this.keyOf.get(ifindex);
    if (key === undefined) return;
    this.keyOf.delete(ifindex);
    const group = this.byKey.get(key);
    group?.delete(ifindex);
    if (group && group.size > 0) for (const i of group.keys()) this.touched.add(i);
    if (group?.size === 0) this.byKey.delete(key);
  }

  /**
   * Tracks exactly these links (a full listing, as polling makes every
   * interval). Only links whose collision began or ended against the
   * previous view are touched, as when links come and go one by one: a
   * partner removed between two listings wakes the link it collided with,
   * and links that still collide are not woken again.
   */
  retrack(links: Iterable<Link>): void {
    const before = this.colliding();
    const touched = this.touched;
    // track() marks every link of a colliding group: here the comparison below decides instead.
    this.touched = new Set();
    this.byKey.clear();
    this.keyOf.clear();
    for (const link of links) this.track(link);
    this.touched = touched;
    const after = this.colliding();
    for (const i of after) if (!before.has(i)) touched.add(i);
    for (const i of before) if (!after.has(i) && this.keyOf.has(i)) touched.add(i);
  }

  private colliding(): Set<number> {
    return new Set([...this.keyOf.keys()].filter((i) => this.partnersOf(i).length > 0));
  }

  /** The links whose collision began or ended since the last call. */
  takeTouched(): number[] {
    const touched = [...this.touched];
    this.touched = new Set();
    return touched;
  }

  /** The other links claiming this link's client address. */
  partnersOf(ifindex: number): number[] {
    const key = this.keyOf.get(ifindex);
    const group = key === undefined ? undefined : this.byKey.get(key);
    return group && group.size > 1 ? [...group.keys()].filter((i) => i !== ifindex) : [];
  }

  /** The collisions these links are in, by interface name. */
  collisionsOf(ifindexes: Iterable<number>): Map<string, Collision> {
    const found = new Map<string, Collision>();
    for (const ifindex of ifindexes) {
      const key = this.keyOf.get(ifindex);
      const group = key === undefined ? undefined : this.byKey.get(key);
      if (!key || !group || group.size < 2) continue;
      const collision = collisionOf(key, group.values());
      for (const name of group.values()) found.set(name, collision);
    }
    return found;
  }
}
