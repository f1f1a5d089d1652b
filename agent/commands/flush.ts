import type { Backend } from '../apply/backend';
import { classify, selectLinks } from '../discover/select';
import { discoverLinks } from '../discover/links';
import { planFlush } from '../plan/planner';
import type { Outcome } from '../plan/steps';
import { readStateNaming, summarize, type Context, type InterfaceResult } from './common';

export interface FlushResult {
  readonly steps: readonly Outcome[];
  readonly interfaces: readonly InterfaceResult[];
}

/** `guestnet flush`: remove exactly what guestnet owns on the named (or all) inter-guest links. */
export async function flush(ifaces: readonly string[], backend: Backend, ctx: Context): Promise<FlushResult> {
  const classified = selectLinks(discoverLinks(backend, ctx.sysfs), ifaces).map((l) => classify(l, ctx.derive));
  const targets = classified.flatMap((c) => (c.desired ? [{ link: c.link, role: c.desired.role }] : []));
  for (const c of classified) {
    if (!c.desired && ifaces.includes(c.link.name)) {
      ctx.log.log('info', c.link.name, `not an inter-guest interface (${c.kind}); nothing of guestnet's there`);
    }
  }
  const state = await readStateNaming(backend, targets.map((t) => t.link));
  const steps = planFlush(targets.map((t) => t.link), state, ctx.derive);
  const outcomes = steps.length > 0 ? await backend.apply(steps) : [];
  const interfaces = summarize(targets.map((t) => ({ ifname: t.link.name, role: t.role })), outcomes, ctx.log);
  return { steps: outcomes, interfaces };
}
