import type { Backend } from '../apply/backend';
import { classify, isTarget, selectLinks } from '../discover/select';
import { listLinks } from '../discover/sysfs';
import { planFlush } from '../plan/planner';
import type { Outcome, Step } from '../plan/steps';
import { logOutcomes, readStateNaming, type Context, type InterfaceResult } from './common';
import { convergeFlush, logUnconverged } from './converge';
import { convergeUplink, planUplinkFor, uplinkOk } from './uplink';

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
  const targets = classified.filter(isTarget);
  for (const c of classified) {
    if (!isTarget(c) && ifaces.includes(c.link.name)) {
      ctx.log.log('info', c.link.name, `not an inter-guest interface (${c.kind}); nothing of guestnet's there`);
    }
  }
  const all = ifaces.length === 0;
  if (dryRun) {
    const state = await readStateNaming(backend, targets.map((t) => t.link));
    const uplink = all ? await planUplinkFor(links, backend, ctx, true) : undefined;
    const steps = [...planFlush(targets.map((t) => t.link), state, ctx.derive), ...(uplink?.steps ?? [])];
    const interfaces = targets.map((t) => ({ ifname: t.link.name, role: t.desired.role, ok: true }));
    return { dryRun, steps, interfaces, uplinkOk: uplink ? uplinkOk(uplink, [], ctx) : true };
  }
  const result = await convergeFlush(targets, backend, ctx);
  logOutcomes(result.outcomes, ctx.log);
  logUnconverged(result, ctx.log);
  const uplink = all ? await convergeUplink(links, backend, ctx, true) : { outcomes: [], ok: true };
  return { dryRun, steps: [...result.outcomes, ...uplink.outcomes], interfaces: result.interfaces, uplinkOk: uplink.ok };
}
