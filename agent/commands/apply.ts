import type { Backend } from '../apply/backend';
import type { Link } from '../convention/types';
import { classify, isTarget, selectLinks, type Classified } from '../discover/select';
import { listLinks } from '../discover/sysfs';
import { waitForLinks } from '../discover/wait';
import { planApply } from '../plan/planner';
import type { Outcome, Step } from '../plan/steps';
import { logConfigured, readStateNaming, summarize, type Context, type InterfaceResult } from './common';
import { planUplinkFor, uplinkOk } from './uplink';

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
  /** False when the uplink table could not be read or set (the links are still configured). */
  readonly uplinkOk: boolean;
}

/** Every link of the VM, and the named (or all) ones classified. */
async function discover(opts: ApplyOptions, ctx: Context): Promise<{ all: Link[]; classified: Classified[] }> {
  const wanted = (links: ReturnType<typeof listLinks>) =>
    opts.ifaces.length > 0
      ? opts.ifaces.every((n) => links.some((l) => l.name === n))
      : links.some((l) => isTarget(classify(l, ctx.derive)));
  const links = opts.wait > 0 ? await waitForLinks(ctx.sysfs, wanted, opts.wait * 1000) : listLinks(ctx.sysfs);
  if (opts.wait > 0 && !wanted(links)) {
    const what = opts.ifaces.length > 0 ? opts.ifaces.join(', ') : 'an inter-guest interface';
    ctx.log.log('warn', undefined, `waited ${opts.wait}s for ${what}; going on with what is there`);
  }
  return { all: links, classified: selectLinks(links, opts.ifaces).map((l) => classify(l, ctx.derive)) };
}

/** `guestnet apply`: bring the named (or all) inter-guest links to the convention's state. */
export async function apply(opts: ApplyOptions, backend: Backend, ctx: Context): Promise<ApplyResult> {
  const { all, classified } = await discover(opts, ctx);
  for (const c of classified) {
    if (!isTarget(c) && opts.ifaces.includes(c.link.name)) {
      ctx.log.log('info', c.link.name, `not an inter-guest interface (${c.kind}, MAC ${c.link.mac}); left alone`);
    }
  }
  const targets = classified.filter(isTarget);
  const roles = targets.map((t) => ({ ifname: t.link.name, role: t.desired.role }));
  const state = await readStateNaming(backend, targets.map((t) => t.link));
  const uplink = await planUplinkFor(all, backend, ctx);
  const steps = [...planApply(targets, state, ctx.derive), ...uplink.steps];
  if (targets.length === 0) ctx.log.log('info', undefined, 'no inter-guest interfaces; nothing to do');
  if (opts.dryRun) {
    const ok = uplinkOk(uplink, [], ctx);
    return { dryRun: true, steps, interfaces: roles.map((r) => ({ ...r, ok: true })), uplinkOk: ok };
  }
  const outcomes = steps.length > 0 ? await backend.apply(steps) : [];
  const interfaces = summarize(roles, outcomes, ctx.log);
  logConfigured(interfaces, ctx.log);
  return { dryRun: false, steps: outcomes, interfaces, uplinkOk: uplinkOk(uplink, outcomes, ctx) };
}
