import type { Backend } from '../apply/backend';
import { logConfigured, outcomeIfname, readStateNaming, summarize, type Context } from '../commands/common';
import { hasProvider, planUplinkFor, uplinkOk } from '../commands/uplink';
import type { Link } from '../convention/types';
import { classify, isTarget, type Classified } from '../discover/select';
import { listLinks } from '../discover/sysfs';
import { planApply, planFlush } from '../plan/planner';
import { isLinkStep, type Outcome } from '../plan/steps';
import { diffSnapshots, linksToApply, snapshotOf, type LinkChange, type Snapshot } from './diff';

// One watcher pass: re-read sysfs, compare with the last pass, log what
// changed, configure the links that need it, and make sure links guestnet
// no longer manages (removed, or given a foreign MAC) keep nothing of its.
// Per-link trouble is logged, not thrown.

function describe(c: Classified): string {
  return c.desired ? `${c.kind} ${c.desired.addr.address}/${c.desired.addr.prefix}` : c.kind;
}

export class Reconciler {
  private snapshot: Snapshot = new Map();
  /** Links whose last apply failed; retried on the next pass. */
  private retry = new Set<number>();
  /** Whether the VM had a provider link when the uplink table was last made right; undefined: retry. */
  private uplinkFor: boolean | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly ctx: Context,
  ) {}

  /** `full` re-applies every inter-guest link (start, SIGHUP); otherwise only changed ones. */
  async pass(full: boolean): Promise<void> {
    const links = listLinks(this.ctx.sysfs);
    const next = snapshotOf(links);
    const changes = diffSnapshots(this.snapshot, next);
    this.snapshot = next;
    for (const change of changes) this.logChange(change);
    const retry = links.filter((l) => this.retry.has(l.ifindex));
    const wanted = full ? links : [...new Map([...linksToApply(changes), ...retry].map((l) => [l.ifindex, l])).values()];
    this.retry = new Set();
    try {
      await this.applyLinks(wanted, full);
    } catch (err) {
      for (const l of wanted) this.retry.add(l.ifindex);
      throw err;
    }
    const released = [...this.ghosts(changes, links), ...this.demoted(changes)];
    if (released.length > 0) await this.release(released);
    const provider = hasProvider(links, this.ctx);
    if (full || provider !== this.uplinkFor) await this.uplink(links, provider);
  }

  /**
   * The VM-wide uplink table: added with the first provider link, removed
   * after the last. Like links, it is re-checked on full passes and when it
   * is concerned (the VM gains or loses its provider role), not per event.
   */
  private async uplink(links: readonly Link[], provider: boolean): Promise<void> {
    this.uplinkFor = undefined;
    const plan = await planUplinkFor(links, this.backend, this.ctx);
    const outcomes = plan.steps.length > 0 ? await this.backend.apply(plan.steps) : [];
    summarize([], outcomes, this.ctx.log);
    if (uplinkOk(plan, outcomes, this.ctx)) this.uplinkFor = provider;
  }

  private logChange(change: LinkChange): void {
    const { link } = change;
    const now = classify(link, this.ctx.derive);
    const log = this.ctx.log;
    if (change.kind === 'added') {
      log.log('debug', link.name, `appeared (${describe(now)}, MAC ${link.mac})`, { event: 'added' });
    } else if (change.kind === 'removed') {
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

  private async applyLinks(links: readonly Link[], full: boolean): Promise<void> {
    const targets = links.map((l) => classify(l, this.ctx.derive)).filter(isTarget);
    if (targets.length === 0) {
      if (full) this.ctx.log.log('info', undefined, 'no inter-guest interfaces yet; watching for them');
      return;
    }
    const state = await readStateNaming(this.backend, targets.map((t) => t.link));
    const steps = planApply(targets, state, this.ctx.derive);
    const outcomes = steps.length > 0 ? await this.backend.apply(steps) : [];
    const gone = this.interrupted(targets.map((t) => t.link), outcomes);
    const kept = targets.filter((t) => !gone.has(t.link.name));
    const results = summarize(
      kept.map((t) => ({ ifname: t.link.name, role: t.desired.role })),
      outcomes.filter((o) => !gone.has(outcomeIfname(o) ?? '')),
      this.ctx.log,
    );
    logConfigured(results, this.ctx.log);
    results.forEach((r, i) => {
      if (!r.ok) this.retry.add(kept[i].link.ifindex);
    });
  }

  /**
   * Failed links that were removed or renamed meanwhile: one line each
   * instead of an error per step. A removed one is dropped from the
   * snapshot so the next pass does not report it again; a renamed one is
   * configured under its new name by the next pass, which the rename woke.
   */
  private interrupted(links: readonly Link[], outcomes: readonly Outcome[]): Set<string> {
    const failed = new Set(outcomes.flatMap((o) => (o.error !== undefined ? [outcomeIfname(o)] : [])));
    const gone = new Set<string>();
    if (failed.size === 0) return gone;
    const now = snapshotOf(listLinks(this.ctx.sysfs));
    for (const link of links) {
      const current = now.get(link.ifindex);
      if (!failed.has(link.name) || current?.name === link.name) continue;
      gone.add(link.name);
      const was = describe(classify(link, this.ctx.derive));
      const what = current ? `renamed to ${current.name}` : 'removed';
      this.ctx.log.log('info', link.name, `${what} while being configured (was ${was})`, { event: current ? 'renamed' : 'removed' });
      if (!current) this.snapshot = new Map([...this.snapshot].filter(([ifindex]) => ifindex !== link.ifindex));
    }
    return gone;
  }

  /**
   * Removed inter-guest links whose name and ifindex no one took over. The
   * kernel drops a deleted link's state; release() makes sure of it.
   */
  private ghosts(changes: readonly LinkChange[], present: readonly Link[]): Link[] {
    return changes.flatMap((c) => {
      if (c.kind !== 'removed' || !isTarget(classify(c.link, this.ctx.derive))) return [];
      return present.some((p) => p.name === c.link.name || p.ifindex === c.link.ifindex) ? [] : [c.link];
    });
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
    summarize([], await this.backend.apply(steps), this.ctx.log);
  }
}
