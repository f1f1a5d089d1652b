import type { Backend } from '../apply/backend';
import { DEFAULT_BOUNDARY, deriveBoundary } from '../convention/boundary';
import type { Link } from '../convention/types';
import { classify } from '../discover/select';
import { EnvironmentError } from '../errors';
import { drift } from '../nft/compare';
import type { FoundTables } from '../nft/decode';
import { rulesetFor, type Ruleset } from '../nft/ruleset';
import { planUplink } from '../plan/uplink';
import type { Outcome, Step } from '../plan/steps';
import { readConntrackMax } from '../state/procfs';
import { logOutcomes, type Context } from './common';

// The uplink is VM-wide: the boundary's table, wanted while any link of the
// VM (not only the ones a command names) is a provider end, and IPv4
// forwarding, switched on only once the table is in place and read back as
// wanted (fail closed). So `apply IFACE` and the watcher's per-link passes
// keep it right too. The table is static (provider links are matched by
// their link group), so a hotplug reads and compares it, never rewrites it.

/** What the uplink looks like and what guestnet would do about it. */
export interface UplinkPlan {
  /** JSON-friendly: null for "no table". */
  readonly expected: Ruleset | null;
  readonly current: FoundTables | null;
  /** Why the kernel's tables differ from the expected; absent when they match. */
  readonly drift?: string;
  readonly steps: readonly Step[];
  /** Why the table could not be read (no nft, no nf_tables); then there are no steps. */
  readonly error?: string;
}

// Plain loops: see ifaceList() in entry/handlers.ts.
export function hasProvider(links: readonly Link[], ctx: Context): boolean {
  for (const l of links) if (classify(l, ctx.derive).kind === 'provider') return true;
  return false;
}

/** The table a VM with these links should hold (undefined: none). */
export function desiredTable(links: readonly Link[], ctx: Context): Ruleset | undefined {
  if (!hasProvider(links, ctx)) return undefined;
  return rulesetFor(deriveBoundary(ctx.boundary ?? DEFAULT_BOUNDARY, ctx.derive.gateway, readConntrackMax()));
}

/** Reads the tables and plans them for `links` (every link of the VM), or for removal when `remove`. */
export async function planUplinkFor(links: readonly Link[], backend: Backend, ctx: Context, remove = false): Promise<UplinkPlan> {
  const desired = remove ? undefined : desiredTable(links, ctx);
  const expected = desired ?? null;
  let current: FoundTables;
  try {
    current = await backend.readUplink();
  } catch (err) {
    if (!(err instanceof EnvironmentError)) throw err;
    // Nothing to own and nothing found out: a client-only VM never needs nftables.
    if (!desired) return { expected, current: null, steps: [] };
    return { expected, current: null, steps: [], error: err.message };
  }
  const why = drift(desired, current);
  return { expected, current, ...(why === undefined ? {} : { drift: why }), steps: planUplink(desired, current) };
}

const isTableStep = (s: Step): boolean => s.action === 'uplink-set' || s.action === 'uplink-del';

/** Logs why the table is not in place as one line; true when the uplink came out right. */
export function uplinkOk(plan: UplinkPlan, outcomes: readonly Outcome[], ctx: Context): boolean {
  const failed = outcomes.find((o) => o.error !== undefined && isTableStep(o.step));
  const cause = plan.error ?? failed?.error;
  if (cause === undefined) return true;
  const line = plan.expected ? `firewall table inet guestnet not in place: ${cause}; IPv4 forwarding not switched on` : cause;
  ctx.log.log('error', undefined, line, { action: 'uplink', cause });
  return false;
}

/** `sysctl -w net.ipv4.ip_forward=1` when the plan wants a table (a provider link is there) and forwarding is off. */
async function forwardingSteps(plan: UplinkPlan, backend: Backend): Promise<Step[]> {
  if (plan.expected === null || (await backend.readState([])).forwarding) return [];
  return [{ action: 'forwarding-on' }];
}

/** The plan --dry-run prints: the table, then forwarding (assuming the table gets in place). */
export async function planUplinkDry(links: readonly Link[], backend: Backend, ctx: Context): Promise<UplinkPlan> {
  const plan = await planUplinkFor(links, backend, ctx);
  if (plan.error !== undefined) return plan;
  return { ...plan, steps: [...plan.steps, ...(await forwardingSteps(plan, backend))] };
}

/** Table writes before a table still read back different counts as failed (another writer fighting). */
const MAX_ROUNDS = 3;

/**
 * Plans the table, applies the plan and reads it back, until it reads back
 * as wanted (a replace is one atomic transaction, but a concurrent `apply`
 * may have written in between). Only then is forwarding switched on. Logs
 * its own lines; `ok` is false when the table is not as wanted (forwarding
 * then stays as it was).
 */
export async function convergeUplink(
  links: readonly Link[],
  backend: Backend,
  ctx: Context,
  remove = false,
): Promise<{ outcomes: readonly Outcome[]; ok: boolean }> {
  const outcomes: Outcome[] = [];
  for (let round = 0; ; round++) {
    const plan = await planUplinkFor(links, backend, ctx, remove);
    if (plan.steps.length === 0 && plan.error === undefined) return forwardingOn(plan, outcomes, backend, ctx);
    const cause = round < MAX_ROUNDS ? undefined : `still not as wanted after replacing it ${MAX_ROUNDS} times (${plan.drift})`;
    const done = cause === undefined && plan.error === undefined ? await backend.apply(plan.steps) : [];
    outcomes.push(...done);
    logOutcomes(done.filter((o) => o.error === undefined), ctx.log); // a failure is uplinkOk's one line
    if (!uplinkOk({ ...plan, error: plan.error ?? cause }, done, ctx)) return { outcomes, ok: false };
  }
}

/** The table is as wanted: forwarding on, if a provider needs it (never before: fail closed). */
async function forwardingOn(
  plan: UplinkPlan,
  outcomes: readonly Outcome[],
  backend: Backend,
  ctx: Context,
): Promise<{ outcomes: readonly Outcome[]; ok: boolean }> {
  const steps = await forwardingSteps(plan, backend);
  const done = steps.length > 0 ? await backend.apply(steps) : [];
  logOutcomes(done, ctx.log);
  return { outcomes: [...outcomes, ...done], ok: done.every((o) => o.error === undefined) };
}
