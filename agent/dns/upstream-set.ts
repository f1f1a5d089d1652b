// The upstreams in the order to ask them, and what the state file says of
// them. The one that answered last is asked first (as dnsmasq does), so a
// dead first nameserver costs one time-out, not one per query.

import { sameEndpoints, type Endpoint } from './upstreams';

export interface UpstreamFailure {
  readonly upstream: Endpoint;
  readonly what: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

export class UpstreamSet {
  private list: readonly Endpoint[] = [];
  private preferred = 0;
  lastFailure: UpstreamFailure | undefined;
  /** Set when the list or the last failure changed, until the state file is written. */
  dirty = true;

  get all(): readonly Endpoint[] {
    return this.list;
  }

  /** Replaces the list (resolv.conf changed); true when it differs. */
  replace(list: readonly Endpoint[]): boolean {
    if (sameEndpoints(list, this.list)) return false;
    this.list = list;
    this.preferred = 0;
    this.dirty = true;
    return true;
  }

  /** The upstream to ask at the `attempt`-th try (0-based), or undefined when all were asked. */
  at(attempt: number): Endpoint | undefined {
    if (attempt >= this.list.length) return undefined;
    return this.list[(this.preferred + attempt) % this.list.length];
  }

  /** `upstream` as `at` gave it (the same object), so most answers cost one comparison. */
  answered(upstream: Endpoint): void {
    if (this.list[this.preferred] === upstream) return;
    const i = this.list.indexOf(upstream);
    if (i >= 0) this.preferred = i;
  }

  failed(upstream: Endpoint, what: string, now: number): void {
    this.lastFailure = { upstream, what, at: now };
    this.dirty = true;
  }
}
