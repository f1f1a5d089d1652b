import type { Backend } from '../apply/backend';
import { logConfigured, logOutcomes, outcomeIfname, type Context, type InterfaceResult } from '../commands/common';
import { failCollided, refused } from '../commands/collisions';
import { converge, logUnconverged } from '../commands/converge';
import { convergeUplink, hasProvider } from '../commands/uplink';
import { DEFAULT_GROUP } from '../convention/link-settings';
import type { Link } from '../convention/types';
import { discoverLinks } from '../discover/links';
import { classify, isTarget, type Classified } from '../discover/select';
import { planFlush } from '../plan/planner';
import { isLinkStep } from '../plan/steps';
import { diffSnapshots, linksToApply, snapshotOf, type LinkChange } from './diff';
import { Claims } from './claims';
import { RepairLimit, REPAIR_WINDOW_MS } from './repair-limit';
import { eventChanges, type Work } from './work';

// One watcher pass: find out what changed (from the events' links, or by
// re-listing), log it, configure the links that need it with the same
// planner `apply` uses, and make sure links guestnet no longer manages
// (removed, or given a foreign MAC) keep nothing of its. Per-link trouble
// is logged, not thrown.

function describe(c: Classified): string {
  const addr = c.desired?.addr;
  if (!c.desired) return c.kind;
  return addr ? `${c.kind} ${addr.address}/${addr.prefix}` : `${c.kind} ${c.desired.client} (refused)`;
}

export interface PassResult {
  /** One per inter-guest link the pass configured or checked. */
  readonly results: readonly InterfaceResult[];
  /** Links held back by the repair limit: the watcher re-checks them when their window ends. */
  readonly deferred: readonly number[];
  /**
   * Whether the VM has a provider link and its table came out right (the
   * watcher then listens for changes to it), has none (false), or the
   * table's last convergence failed (undefined: retried on the next pass).
   */
  readonly keepsTable: boolean | undefined;
}

export class Reconciler {
  /** The links as the last pass left them, by ifindex; kept up to date from events. */
  private readonly snapshot = new Map<number, Link>();
  /** Links whose last apply failed; retried on the next pass. */
  private retry = new Set<number>();
  /** Whether the VM had a provider link when the uplink table was last made right; undefined: retry. */
  private uplinkFor: boolean | undefined;
  private readonly limit: RepairLimit;
  /** Which links claim each client address (collisions). */
  private readonly claims: Claims;
  /** Colliding links and the collision last logged for each: said once while it lasts, not at every re-check. */
  private readonly collisionSaid = new Map<number, string>();

  constructor(
    private readonly backend: Backend,
    private readonly ctx: Context,
    now?: () => number,
  ) {
    this.limit = new RepairLimit(now);
    this.claims = new Claims(ctx.derive);
  }

  async pass(work: Work): Promise<PassResult> {
    const { changes, repairs } = work.full || work.relist ? this.relist(work.full) : this.fromEvents(work);
    for (const change of changes) this.logChange(change);
    const deferred: number[] = [];
    const checked = repairs.filter((l) => this.allowRepair(l, deferred));
    const retry = [...this.retry].flatMap((i) => this.snapshot.get(i) ?? []);
    const changed = work.full ? [...this.snapshot.values()] : linksToApply(changes);
    const wanted = new Map([...changed, ...retry, ...checked, ...this.collided(changed)].map((l) => [l.ifindex, l]));
    this.retry = new Set();
    // Links that just appeared hold nothing of guestnet's yet: their routes can be confirmed one by one.
    const fresh = new Set(work.full ? [] : changes.flatMap((c) => (c.kind === 'added' ? [c.link.ifindex] : [])));
    let results: InterfaceResult[];
    try {
      results = await this.applyLinks([...wanted.values()], work.full, new Set(changed.map((l) => l.ifindex)), fresh);
    } catch (err) {
      for (const ifindex of wanted.keys()) this.retry.add(ifindex);
      throw err;
    }
    const released = [...this.ghosts(changes), ...this.demoted(changes)];
    if (released.length > 0) await this.release(released);
    await this.uplinkIfConcerned(work, changes);
    return { results, deferred, keepsTable: this.uplinkFor };
  }

  /**
   * The VM-wide uplink table: added with the first provider link, removed
   * after the last. Like links, it is re-checked on full passes and when it
   * is concerned (a provider link came, went or changed, or someone changed
   * the table while the VM keeps one), not per link event. A table event
   * on a VM without provider links reads nothing and creates nothing.
   */
  private async uplinkIfConcerned(work: Work, changes: readonly LinkChange[]): Promise<void> {
    const kind = (l: Link) => classify(l, this.ctx.derive).kind;
    const touched = changes.some((c) => kind(c.link) === 'provider' || (c.kind === 'changed' && kind(c.before) === 'provider'));
    const recheck = work.full || (work.table && this.uplinkFor === true);
    if (!recheck && !touched && this.uplinkFor !== undefined) return;
    const links = () => [...this.snapshot.values()];
    // A provider link that came or changed settles it without a look at the thousands of others.
    const provider = changes.some((c) => c.kind !== 'removed' && kind(c.link) === 'provider') || hasProvider(links(), this.ctx);
    if (!recheck && provider === this.uplinkFor) return;
    this.uplinkFor = undefined;
    if ((await convergeUplink(links(), this.backend, this.ctx)).ok) this.uplinkFor = provider;
  }

  /** Every link from the kernel (or sysfs), compared with the snapshot; links that came up get a re-check. */
  private relist(full: boolean): { changes: LinkChange[]; repairs: Link[] } {
    const links = discoverLinks(this.backend, this.ctx.sysfs);
    const next = snapshotOf(links);
    const changes = diffSnapshots(this.snapshot, next);
    const repairs = full ? [] : links.filter((l) => l.up && this.snapshot.get(l.ifindex)?.up === false);
    this.snapshot.clear();
    for (const [ifindex, link] of next) this.snapshot.set(ifindex, link);
    this.claims.retrack(next.values());
    return { changes, repairs };
  }

  /**
   * Only the links the events named: their changes, and a re-check of those
   * that came back up (setting a link down flushes its routes) or lost an
   * address or route. A link someone took down is left so.
   */
  private fromEvents(work: Work): { changes: LinkChange[]; repairs: Link[] } {
    const changes = eventChanges(this.snapshot, work.links);
    const changed = new Set(changes.map((c) => c.link.ifindex));
    const cameUp = new Set<number>();
    for (const [ifindex, link] of work.links) {
      if (link?.up && this.snapshot.get(ifindex)?.up === false) cameUp.add(ifindex);
      if (link === undefined) {
        this.snapshot.delete(ifindex);
        this.claims.forget(ifindex);
      } else {
        this.snapshot.set(ifindex, link);
        this.claims.track(link);
      }
    }
    const repairs = [...new Set([...cameUp, ...work.touched])].flatMap((ifindex) => {
      const link = this.snapshot.get(ifindex);
      return link?.up && !changed.has(ifindex) ? [link] : [];
    });
    return { changes, repairs };
  }

  /**
   * Links a collision concerns besides `changed`: those whose collision
   * began or ended (a partner came, went or changed its MAC), and the
   * partners of the changed links, which lose their address or route too.
   */
  private collided(changed: readonly Link[]): Link[] {
    const ifindexes = [...this.claims.takeTouched(), ...changed.flatMap((l) => this.claims.partnersOf(l.ifindex))];
    return ifindexes.flatMap((i) => this.snapshot.get(i) ?? []);
  }

  /** Counts a re-check of an inter-guest link against its limit; logs the first time it is held back. */
  private allowRepair(link: Link, deferred: number[]): boolean {
    if (!isTarget(classify(link, this.ctx.derive))) return false;
    if (this.limit.allow(link.ifindex)) return true;
    deferred.push(link.ifindex);
    if (this.limit.firstLimit(link.ifindex)) {
      const msg = `its state keeps changing (another program?); re-checking it at most every ${REPAIR_WINDOW_MS / 1000} s`;
      this.ctx.log.log('warn', link.name, msg, { event: 'repair-limited' });
    }
    return false;
  }

  private logChange(change: LinkChange): void {
    const { link } = change;
    const now = classify(link, this.ctx.derive);
    const log = this.ctx.log;
    if (change.kind === 'added') {
      log.log('debug', link.name, `appeared (${describe(now)}, MAC ${link.mac})`, { event: 'added' });
    } else if (change.kind === 'removed') {
      this.limit.forget(link.ifindex);
      this.collisionSaid.delete(link.ifindex);
      const why = now.desired ? '; the kernel dropped its addresses and routes' : '';
      log.log(now.desired ? 'info' : 'debug', link.name, `removed (was ${describe(now)})${why}`, { event: 'removed' });
    } else {
      const was = classify(change.before, this.ctx.derive);
      const level = now.desired || was.desired ? 'info' : 'debug';
      const { before } = change;
      if (change.renamed) log.log(level, link.name, `renamed from ${before.name}`, { event: 'renamed', from: before.name });
      if (change.macChanged) {
        const msg = `MAC changed from ${before.mac} (${describe(was)}) to ${link.mac} (${describe(now)})`;
        log.log(level, link.name, msg, { event: 'mac-changed', from: before.mac, mac: link.mac });
      }
    }
  }

  /**
   * converge() for these links: the same read -> plan -> apply -> read back
   * `apply` runs. "configured" is logged for every link of a full pass and
   * for changed links; a re-check says it only when it had to repair.
   */
  private async applyLinks(
    links: readonly Link[],
    full: boolean,
    changed: ReadonlySet<number>,
    fresh: ReadonlySet<number>,
  ): Promise<InterfaceResult[]> {
    const collisions = this.claims.collisionsOf(links.map((l) => l.ifindex));
    const targets = links.map((l) => refused(classify(l, this.ctx.derive), collisions)).filter(isTarget);
    if (targets.length === 0) {
      if (full) this.ctx.log.log('info', undefined, 'no inter-guest interfaces yet; watching for them');
      return [];
    }
    const converged = await converge(targets, this.backend, this.ctx, fresh);
    const result = failCollided(converged, collisions);
    const gone = this.interrupted(targets.map((t) => t.link), result.interfaces.filter((r) => !r.ok).map((r) => r.ifname));
    const outcomes = result.outcomes.filter((o) => !gone.has(outcomeIfname(o) ?? ''));
    const interfaces = result.interfaces.filter((r) => !gone.has(r.ifname));
    const byName = new Map(targets.map((t) => [t.link.name, t.link.ifindex]));
    logOutcomes(outcomes, this.ctx.log);
    logUnconverged({ outcomes, interfaces: interfaces.filter((r) => this.newsOfCollision(r, byName.get(r.ifname), collisions)) }, this.ctx.log);
    const repaired = new Set(outcomes.map(outcomeIfname));
    const said = interfaces.filter((r) => full || changed.has(byName.get(r.ifname) ?? -1) || repaired.has(r.ifname));
    logConfigured(said, this.ctx.log);
    // A refused link that holds what it may is settled, not retried: its partner's coming or going wakes it.
    const results = new Map(converged.interfaces.filter((r) => !gone.has(r.ifname)).map((r) => [r.ifname, r]));
    for (const t of targets) {
      const r = results.get(t.link.name);
      // Up now, by our doing: the next listing must not take that for news.
      if (r?.ok && this.snapshot.get(t.link.ifindex)?.name === t.link.name) this.snapshot.set(t.link.ifindex, { ...t.link, up: true });
      else if (r !== undefined) this.retry.add(t.link.ifindex);
    }
    return interfaces;
  }

  /** False for a link whose collision, the same one, was already logged; tracks which were. */
  private newsOfCollision(r: InterfaceResult, ifindex: number | undefined, collisions: ReadonlyMap<string, unknown>): boolean {
    if (ifindex === undefined) return true;
    if (!collisions.has(r.ifname)) {
      this.collisionSaid.delete(ifindex);
      return true;
    }
    if (this.collisionSaid.get(ifindex) === r.error) return false;
    this.collisionSaid.set(ifindex, r.error ?? '');
    return true;
  }

  /**
   * Failed links that were removed or renamed meanwhile: one line each
   * instead of an error. A removed one is dropped from the
   * snapshot so the next pass does not report it again; a renamed one is
   * configured under its new name by the next pass, which the rename woke.
   */
  private interrupted(links: readonly Link[], failedNames: readonly string[]): Set<string> {
    const failed = new Set(failedNames);
    const gone = new Set<string>();
    if (failed.size === 0) return gone;
    const linkAt = this.linksNow();
    for (const link of links) {
      if (!failed.has(link.name)) continue;
      const current = linkAt(link.ifindex);
      if (current?.name === link.name) continue;
      gone.add(link.name);
      const was = describe(classify(link, this.ctx.derive));
      const what = current ? `renamed to ${current.name}` : 'removed';
      this.ctx.log.log('info', link.name, `${what} while being configured (was ${was})`, { event: current ? 'renamed' : 'removed' });
      if (!current) {
        this.snapshot.delete(link.ifindex);
        this.claims.forget(link.ifindex);
      }
    }
    return gone;
  }

  /**
   * The link with a given ifindex as the kernel has it now: asked one by one
   * where the backend can (a listing of thousands of links costs
   * milliseconds), else from one listing.
   */
  private linksNow(): (ifindex: number) => Link | undefined {
    const { backend } = this;
    const linkAt = backend.linkAt?.bind(backend);
    if (linkAt) return linkAt;
    const now = new Map(discoverLinks(backend, this.ctx.sysfs).map((l) => [l.ifindex, l]));
    return (ifindex) => now.get(ifindex);
  }

  /**
   * Removed inter-guest links whose name and ifindex no one took over. The
   * kernel drops a deleted link's state; release() makes sure of it. Its
   * group went with it: the last one known is not there to reset.
   */
  private ghosts(changes: readonly LinkChange[]): Link[] {
    const removed = changes.filter((c) => c.kind === 'removed' && isTarget(classify(c.link, this.ctx.derive)));
    return removed.flatMap((c) =>
      this.snapshot.has(c.link.ifindex) || this.nameTaken(c.link.name) ? [] : [{ ...c.link, group: DEFAULT_GROUP }],
    );
  }

  /** Whether a link in the snapshot has this name (a scan, not a set of thousands of names per removal). */
  private nameTaken(name: string): boolean {
    for (const link of this.snapshot.values()) if (link.name === name) return true;
    return false;
  }

  /** Links whose new MAC is not inter-guest: what guestnet set there is no longer wanted. */
  private demoted(changes: readonly LinkChange[]): Link[] {
    return changes.flatMap((c) =>
      c.kind === 'changed' && isTarget(classify(c.before, this.ctx.derive)) && !isTarget(classify(c.link, this.ctx.derive))
        ? [c.link]
        : [],
    );
  }

  /** Removes the owned addresses and routes still found on these links. */
  private async release(links: readonly Link[]): Promise<void> {
    const steps = planFlush(links, await this.backend.readState(links), this.ctx.derive);
    if (steps.length === 0) return;
    const names = [...new Set(steps.flatMap((s) => (isLinkStep(s) ? [s.ifname] : [])))];
    const msg = `removing what guestnet set on links it no longer manages: ${names.join(', ')}`;
    this.ctx.log.log('info', undefined, msg, { event: 'released' });
    logOutcomes(await this.backend.apply(steps), this.ctx.log);
  }
}
