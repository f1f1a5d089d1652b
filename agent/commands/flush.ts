import type { Backend } from '../apply/backend';
import { classify, selectLinks } from '../discover/select';
import { listLinks } from '../discover/sysfs';
import { planFlush } from '../plan/planner';
import type { Outcome, Step } from '../plan/steps';
import { readStateNaming, summarize, type Context, type InterfaceResult } from './common';
import { planUplinkFor, uplinkOk } from './uplink';

export interface FlushResult {
  readonly dryRun: boolean;
  readonly steps: readonly (Step | Outcome)[];
  readonly interfaces: readonly InterfaceResult[];
  readonly uplinkOk: boolean;
}

/**
 * `guestnet flush`: remove exactly what guestnet owns on the named (or all)
 * inter-guest links; with `dryRun`, only plan it. The uplink table is the
 * VM's, not a link's: only a flush of everything (no names) removes it.
 */
export async function flush(ifaces: readonly string[], dryRun: boolean, backend: Backend, ctx: Context): Promise<FlushResult> {
  const links = listLinks(ctx.sysfs);
  const classified = selectLinks(links, ifaces).map((l) => classify(l, ctx.derive));
  const targets = classified.flatMap((c) => (c.desired ? [{ link: c.link, role: c.desired.role }] : []));
  for (const c of classified) {
    if (!c.desired && ifaces.includes(c.link.name)) {
      ctx.log.log('info', c.link.name, `not an inter-guest interface (${c.kind}); nothing of guestnet's there`);
    }
  }
  const state = await readStateNaming(backend, targets.map((t) => t.link));
  const uplink = ifaces.length === 0 ? await planUplinkFor(links, backend, ctx, true) : undefined;
  const steps = [...planFlush(targets.map((t) => t.link), state, ctx.derive), ...(uplink?.steps ?? [])];
  const roles = targets.map((t) => ({ ifname: t.link.name, role: t.role }));
  if (dryRun) return { dryRun, steps, interfaces: roles.map((r) => ({ ...r, ok: true })), uplinkOk: uplink ? uplinkOk(uplink, [], ctx) : true };
  const outcomes = steps.length > 0 ? await backend.apply(steps) : [];
  const interfaces = summarize(roles, outcomes, ctx.log);
  return { dryRun, steps: outcomes, interfaces, uplinkOk: uplink ? uplinkOk(uplink, outcomes, ctx) : true };
}
