import type { Backend } from '../apply/backend';
import { describeStep } from '../apply/ip-commands';
import { RTPROT_GUESTNET } from '../convention/ownership';
import type { Addr, Link, LinkState } from '../convention/types';
import { discoverLinks } from '../discover/links';
import { classify, isTarget } from '../discover/select';
import { sameAddr } from '../plan/planner';
import type { Outcome, Step } from '../plan/steps';
import type { Context } from './common';

// `ip` acts by name, so a link renamed between the state read and the batch
// (udev swapping two names) can receive what was meant for another: the
// gateway address on a hardware NIC. After each such batch, the links that
// are not inter-guest are searched for it and it is removed, by ifindex
// where the backend has a netlink side (always in the compiled binary).

/** Searches after a batch, until one finds nothing. */
const MAX_SEARCHES = 3;

/**
 * Removal steps for what looks placed by guestnet on links that are not
 * inter-guest: an address the batch added, a route with guestnet's mark
 * (guestnet never puts either there). Pure.
 */
export function misplacedSteps(applied: readonly Step[], others: ReadonlyMap<string, LinkState>): Step[] {
  const added: Addr[] = applied.flatMap((s) => (s.action === 'addr-add' ? [s.addr] : []));
  const steps: Step[] = [];
  for (const [ifname, state] of others) {
    for (const addr of state.addrs) if (added.some((a) => sameAddr(a, addr))) steps.push({ action: 'addr-del', ifname, addr });
    for (const route of state.routes) if (route.proto === RTPROT_GUESTNET) steps.push({ action: 'route-del', ifname, route });
  }
  return steps;
}

/** Finds and removes what a by-name batch put on links that are not inter-guest; one warning a step. */
export async function undoMisplaced(applied: readonly Step[], backend: Backend, ctx: Context): Promise<Outcome[]> {
  if (!backend.byName || !applied.some((s) => s.action === 'addr-add' || s.action === 'route-add')) return [];
  const exact = backend.byIndex?.() ?? backend;
  const outcomes: Outcome[] = [];
  for (let search = 0; search < MAX_SEARCHES; search++) {
    const others = discoverLinks(exact, ctx.sysfs).filter((l) => !isTarget(classify(l, ctx.derive)));
    const steps = misplacedSteps(applied, (await exact.readState(others)).links);
    if (steps.length === 0) break;
    for (const step of steps) {
      const why = 'meant for an inter-guest link, it landed here (a link renamed while guestnet applied); removing it';
      ctx.log.log('warn', 'ifname' in step ? step.ifname : undefined, `${describeStep(step)}: ${why}`, { event: 'misplaced' });
    }
    outcomes.push(...(await exact.apply(steps, new Map(others.map((l): [string, Link] => [l.name, l])))));
  }
  return outcomes;
}
