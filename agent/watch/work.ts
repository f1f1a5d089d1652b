import type { Link } from '../convention/types';
import { diffSnapshots, type LinkChange } from './diff';

// What the events since the last pass ask of the next one. Pure bookkeeping:
// the watcher fills it, the reconciler turns it into changes and links.

export interface Work {
  /** Re-list every link and re-apply all of them (start, SIGHUP, lost events). */
  full: boolean;
  /** Re-list every link and apply what changed (sources that carry no detail). */
  relist: boolean;
  /** Link notifications, the last per ifindex; undefined: removed. */
  readonly links: Map<number, Link | undefined>;
  /** Links that lost an IPv4 address or route. */
  readonly touched: Set<number>;
  /** guestnet's nftables table may have changed: re-read it (while the VM keeps one). */
  table: boolean;
  /** Why events were lost, for the log. */
  lost?: string;
}

export function emptyWork(): Work {
  return { full: false, relist: false, links: new Map(), touched: new Set(), table: false };
}

/**
 * The changes link notifications make to `snapshot` (the links as the
 * last pass left them), looking at those links only: constant cost per
 * event however many links the kernel holds.
 */
export function eventChanges(snapshot: ReadonlyMap<number, Link>, events: ReadonlyMap<number, Link | undefined>): LinkChange[] {
  const before = new Map<number, Link>();
  const after = new Map<number, Link>();
  for (const [ifindex, link] of events) {
    const old = snapshot.get(ifindex);
    if (old !== undefined) before.set(ifindex, old);
    if (link !== undefined) after.set(ifindex, link);
  }
  return diffSnapshots(before, after);
}
