import type { Backend } from '../apply/backend';
import type { Link } from '../convention/types';
import { classify, isTarget, selectLinks, type Classified, type TargetLink } from '../discover/select';
import { discoverLinks } from '../discover/links';
import { waitForLinks } from '../discover/wait';
import { planApply } from '../plan/planner';
import type { Outcome, Step } from '../plan/steps';
import { collisionsAmong, failCollided, withPartners } from './collisions';
import { readStateNaming, type Context, type InterfaceResult } from './common';
import { converge, logConverged } from './converge';
import { convergeUplink, planUplinkDry, uplinkOk } from './uplink';

export interface ApplyOptions {
  readonly ifaces: readonly string[];
  readonly dryRun: boolean;
  /** Seconds to wait for the named links, or for any inter-guest link. */
  readonly wait: number;
}

export interface ApplyResult {
  readonly dryRun: boolean;
  readonly steps: readonly (Step | Outcome)[];
  readonly interfaces: readonly InterfaceResult[];
  /** False when the firewall table could not be read or set (the links are still configured, forwarding not switched on). */
  readonly uplinkOk: boolean;
}

/** Every link of the VM, and the named (or all) ones classified. */
async function discover(opts: ApplyOptions, backend: Backend, ctx: Context): Promise<{ all: Link[]; classified: Classified[] }> {
  const wanted = (links: readonly Link[]) =>
    opts.ifaces.length > 0
      ? opts.ifaces.every((n) => links.some((l) => l.name === n))
      : links.some((l) => isTarget(classify(l, ctx.derive)));
  const list = (): Link[] => discoverLinks(backend, ctx.sysfs);
  const links = opts.wait > 0 ? await waitForLinks(list, wanted, opts.wait * 1000) : list();
  if (opts.wait > 0 && !wanted(links)) {
    const what = opts.ifaces.length > 0 ? opts.ifaces.join(', ') : 'an inter-guest interface';
    ctx.log.log('warn', undefined, `waited ${opts.wait}s for ${what}; going on with what is there`);
  }
  // Plain loops: see ifaceList() in entry/handlers.ts.
  const classified: Classified[] = [];
  for (const l of selectLinks(links, opts.ifaces)) classified.push(classify(l, ctx.derive));
  return { all: links, classified };
}

/** `guestnet apply`: bring the named (or all) inter-guest links to the convention's state. */
export async function apply(opts: ApplyOptions, backend: Backend, ctx: Context): Promise<ApplyResult> {
  const { all, classified } = await discover(opts, backend, ctx);
  for (const c of classified) {
    if (!isTarget(c) && opts.ifaces.includes(c.link.name)) {
      ctx.log.log('info', c.link.name, `not an inter-guest interface (${c.kind}, MAC ${c.link.mac}); left alone`);
    }
  }
  const selected: TargetLink[] = [];
  for (const c of classified) if (isTarget(c)) selected.push(c);
  if (selected.length === 0) ctx.log.log('info', undefined, 'no inter-guest interfaces; nothing to do');
  const collisions = collisionsAmong(all, ctx.derive);
  const targets = withPartners(selected, all, collisions, ctx.derive);
  if (opts.dryRun) {
    const state = await readStateNaming(backend, targets.map((t) => t.link));
    const uplink = await planUplinkDry(all, backend, ctx);
    const steps = [...planApply(targets, state, ctx.derive), ...uplink.steps];
    const interfaces = targets.map((t) => ({ ifname: t.link.name, role: t.desired.role, ok: true }));
    return { dryRun: true, steps, interfaces, uplinkOk: uplinkOk(uplink, [], ctx) };
  }
  const result = failCollided(await converge(targets, backend, ctx), collisions);
  logConverged(result, ctx.log);
  const uplink = await convergeUplink(all, backend, ctx);
  return { dryRun: false, steps: [...result.outcomes, ...uplink.outcomes], interfaces: result.interfaces, uplinkOk: uplink.ok };
}
