import type { Link } from '../convention/types';

// Pure: two listings of /sys/class/net -> what happened to which link.
// Links are matched by ifindex, which a rename or a MAC change keeps.

/** The links of one listing, keyed by ifindex. */
export type Snapshot = ReadonlyMap<number, Link>;

export type LinkChange =
  | { readonly kind: 'added'; readonly link: Link }
  | { readonly kind: 'removed'; readonly link: Link }
  | {
      readonly kind: 'changed';
      readonly before: Link;
      readonly link: Link;
      readonly renamed: boolean;
      readonly macChanged: boolean;
    };

export function snapshotOf(links: readonly Link[]): Snapshot {
  return new Map(links.map((l) => [l.ifindex, l]));
}

/**
 * Additions, removals, renames and MAC changes, in ifindex order. Flag
 * changes (up/down) are not reported: guestnet's own `link set up` would
 * otherwise wake the watcher for every link it configures.
 */
export function diffSnapshots(before: Snapshot, after: Snapshot): LinkChange[] {
  const changes: LinkChange[] = [];
  for (const [ifindex, link] of before) {
    if (!after.has(ifindex)) changes.push({ kind: 'removed', link });
  }
  for (const [ifindex, link] of after) {
    const old = before.get(ifindex);
    if (old === undefined) {
      changes.push({ kind: 'added', link });
      continue;
    }
    const renamed = old.name !== link.name;
    const macChanged = old.mac !== link.mac;
    if (renamed || macChanged) changes.push({ kind: 'changed', before: old, link, renamed, macChanged });
  }
  return changes.sort((a, b) => a.link.ifindex - b.link.ifindex);
}

/** The present links a change asks to (re)configure. */
export function linksToApply(changes: readonly LinkChange[]): Link[] {
  return changes.flatMap((c) => (c.kind === 'removed' ? [] : [c.link]));
}
