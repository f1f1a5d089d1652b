import type { Backend } from '../apply/backend';
import type { Link } from '../convention/types';
import { DEFAULT_UPLINK, desiredUplink, type UplinkTable } from '../convention/uplink';
import { classify } from '../discover/select';
import { EnvironmentError } from '../errors';
import { planUplink } from '../plan/uplink';
import type { Outcome, Step } from '../plan/steps';
import { logOutcomes, type Context } from './common';

// The uplink is VM-wide: wanted while any link of the VM (not only the ones
// a command names) is a provider end, so `apply IFACE` and the watcher's
// per-link passes keep it right too.

/** What the uplink looks like and what guestnet would do about it. */
export interface UplinkPlan {
  /** JSON-friendly: null for "no table". */
  readonly expected: UplinkTable | null;
  readonly current: UplinkTable | null;
  readonly steps: readonly Step[];
  /** Why the table could not be read (no nft, no nf_tables); then there are no steps. */
  readonly error?: string;
}

// Plain loops: see ifaceList() in entry/handlers.ts.
export function hasProvider(links: readonly Link[], ctx: Context): boolean {
  for (const l of links) if (classify(l, ctx.derive).kind === 'provider') return true;
  return false;
}

/** Reads the table and plans it for `links` (every link of the VM), or for removal when `remove`. */
export async function planUplinkFor(links: readonly Link[], backend: Backend, ctx: Context, remove = false): Promise<UplinkPlan> {
  const desired = remove ? undefined : desiredUplink(hasProvider(links, ctx), ctx.uplink ?? DEFAULT_UPLINK);
  const expected = desired ?? null;
  let current: UplinkTable | undefined;
  try {
    current = await backend.readUplink();
  } catch (err) {
    if (!(err instanceof EnvironmentError)) throw err;
    // Nothing to own and nothing found out: a client-only VM never needs nftables.
    if (!desired) return { expected, current: null, steps: [] };
    return { expected, current: null, steps: [], error: err.message };
  }
  return { expected, current: current ?? null, steps: planUplink(desired, current) };
}

/** Logs a read failure as one line; true when the uplink came out right. */
export function uplinkOk(plan: UplinkPlan, outcomes: readonly Outcome[], ctx: Context): boolean {
  if (plan.error !== undefined) ctx.log.log('error', undefined, plan.error, { action: 'uplink', cause: plan.error });
  if (plan.error !== undefined) return false;
  for (const o of outcomes) if (o.error !== undefined && (o.step.action === 'uplink-set' || o.step.action === 'uplink-del')) return false;
  return true;
}

/**
 * Plans the table, applies the plan and reads it back: a replace is one
 * atomic transaction, so one round either got there or says why not.
 * Logs its own lines; `ok` is false when the table is not as wanted.
 */
export async function convergeUplink(
  links: readonly Link[],
  backend: Backend,
  ctx: Context,
  remove = false,
): Promise<{ outcomes: readonly Outcome[]; ok: boolean }> {
  const plan = await planUplinkFor(links, backend, ctx, remove);
  const outcomes = plan.steps.length > 0 ? await backend.apply(plan.steps) : [];
  logOutcomes(outcomes, ctx.log);
  if (!uplinkOk(plan, outcomes, ctx)) return { outcomes, ok: false };
  if (outcomes.length === 0) return { outcomes, ok: true };
  const left = (await planUplinkFor(links, backend, ctx, remove)).steps;
  if (left.length === 0) return { outcomes, ok: true };
  const cause = 'table ip guestnet is still not as wanted after replacing it';
  ctx.log.log('error', undefined, cause, { action: 'uplink', cause });
  return { outcomes, ok: false };
}
