import type { Backend } from '../apply/backend';
import { classify, isTarget, selectLinks } from '../discover/select';
import { discoverLinks } from '../discover/links';
import type { Outcome } from '../plan/steps';
import { logOutcomes, type Context, type InterfaceResult } from './common';
import { convergeFlush, logUnconverged } from './converge';

export interface FlushResult {
  readonly steps: readonly Outcome[];
  readonly interfaces: readonly InterfaceResult[];
}

/** `guestnet flush`: remove exactly what guestnet owns on the named (or all) inter-guest links. */
export async function flush(ifaces: readonly string[], backend: Backend, ctx: Context): Promise<FlushResult> {
  const classified = selectLinks(discoverLinks(backend, ctx.sysfs), ifaces).map((l) => classify(l, ctx.derive));
  const targets = classified.filter(isTarget);
  for (const c of classified) {
    if (!isTarget(c) && ifaces.includes(c.link.name)) {
      ctx.log.log('info', c.link.name, `not an inter-guest interface (${c.kind}); nothing of guestnet's there`);
    }
  }
  const result = await convergeFlush(targets, backend, ctx);
  logOutcomes(result.outcomes, ctx.log);
  logUnconverged(result, ctx.log);
  return { steps: result.outcomes, interfaces: result.interfaces };
}
