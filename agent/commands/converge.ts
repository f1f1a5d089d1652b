import type { Backend } from '../apply/backend';
import { describeStep } from '../apply/ip-commands';
import type { DeriveOptions, KernelState, Link, Route } from '../convention/types';
import { classify, isTarget, type TargetLink } from '../discover/select';
import { linksNamed } from '../discover/links';
import { collectGarbage } from '../engine';
import type { Logger } from '../log';
import { planApply, planFlush } from '../plan/planner';
import { isLinkStep, type Outcome, type Step } from '../plan/steps';
import { logConfigured, logOutcomes, outcomeIfname, readStateNaming, type Context, type InterfaceResult } from './common';

// Read -> plan -> apply -> read again. The kernel has side effects a plan
// cannot always foresee (a link's last address removed flushes its routes,
// a link set down meanwhile loses them), and a backend may report success
// for work that did not happen; so success is what the state read back
// says, not what the backend answered. Bounded: a fight with another tool
// ends after MAX_ROUNDS with the interface failed, naming what is missing.

/** Apply rounds before an interface still not as wanted counts as failed. */
const MAX_ROUNDS = 3;

export interface ConvergeResult {
  /** Every step applied, all rounds, in order. */
  readonly outcomes: readonly Outcome[];
  /** One per target, in the targets' order. */
  readonly interfaces: readonly InterfaceResult[];
}

type Planner = (targets: readonly TargetLink[], state: KernelState, options: DeriveOptions) => Step[];

const planFlushOf: Planner = (targets, state, options) => planFlush(targets.map((t) => t.link), state, options);

/**
 * Brings the targets to the convention's state, verified by reading it back.
 * `fresh`: ifindexes of links just created, whose wanted routes the backend
 * may confirm one by one (see Backend.readState). Logs nothing.
 */
export function converge(
  targets: readonly TargetLink[],
  backend: Backend,
  ctx: Context,
  fresh: ReadonlySet<number> = new Set(),
): Promise<ConvergeResult> {
  return settle(targets, planApply, backend, ctx, fresh);
}

/** Removes what guestnet owns on the targets, verified by reading it back. Logs nothing. */
export function convergeFlush(targets: readonly TargetLink[], backend: Backend, ctx: Context): Promise<ConvergeResult> {
  return settle(targets, planFlushOf, backend, ctx);
}

async function settle(
  targets: readonly TargetLink[],
  plan: Planner,
  backend: Backend,
  ctx: Context,
  fresh: ReadonlySet<number> = new Set(),
): Promise<ConvergeResult> {
  const outcomes: Outcome[] = [];
  const failed = new Map<string, string>();
  let pending = [...targets];
  for (let round = 0; pending.length > 0; round++) {
    collectGarbage(pending.length);
    const state = await readStateNaming(backend, pending.map((t) => t.link), expectedRoutes(pending, fresh));
    const steps = plan(pending, state, ctx.derive);
    if (steps.length === 0) break;
    if (round === MAX_ROUNDS) {
      for (const [ifname, left] of leftToDo(pending, steps)) {
        failed.set(ifname, `still not as wanted after ${MAX_ROUNDS} rounds; left to do: ${left.map(describeStep).join('; ')}`);
      }
      break;
    }
    const done = await backend.apply(steps, new Map(pending.map((t) => [t.link.name, t.link])));
    outcomes.push(...done);
    for (const [ifname, cause] of errorsOf(done)) failed.set(ifname, cause);
    pending = refresh(pending.filter((t) => !failed.has(t.link.name)), backend, ctx, failed);
  }
  const interfaces: InterfaceResult[] = []; // a plain loop: see ifaceList() in entry/handlers.ts
  for (const t of targets) interfaces.push(resultOf(t, failed.get(t.link.name)));
  return { outcomes, interfaces };
}

/** The wanted routes of the fresh targets, by ifindex; undefined when there are none. */
function expectedRoutes(targets: readonly TargetLink[], fresh: ReadonlySet<number>): Map<number, readonly Route[]> | undefined {
  if (fresh.size === 0) return undefined;
  return new Map(targets.flatMap((t) => (fresh.has(t.link.ifindex) ? [[t.link.ifindex, t.desired.routes] as const] : [])));
}

function resultOf(t: TargetLink, error: string | undefined): InterfaceResult {
  const { role } = t.desired;
  return error === undefined ? { ifname: t.link.name, role, ok: true } : { ifname: t.link.name, role, ok: false, error };
}

/** The first error per interface (link plans hold only link steps: forwarding follows the firewall, commands/uplink.ts). */
function errorsOf(outcomes: readonly Outcome[]): Map<string, string> {
  const errors = new Map<string, string>();
  for (const o of outcomes) {
    const ifname = outcomeIfname(o);
    if (o.error !== undefined && ifname !== undefined && !errors.has(ifname)) errors.set(ifname, o.error);
  }
  return errors;
}

/** The steps still planned, per interface. */
function leftToDo(targets: readonly TargetLink[], steps: readonly Step[]): Map<string, Step[]> {
  const left = new Map<string, Step[]>();
  for (const t of targets) {
    const own = steps.filter((s) => isLinkStep(s) && s.ifname === t.link.name);
    if (own.length > 0) left.set(t.link.name, own);
  }
  return left;
}

/**
 * The targets as the kernel has them now (the up flag the next plan needs).
 * A link that vanished, was renamed or no longer carries an inter-guest MAC
 * is failed rather than chased.
 */
function refresh(targets: readonly TargetLink[], backend: Backend, ctx: Context, failed: Map<string, string>): TargetLink[] {
  const links = linksNamed(backend, ctx.sysfs, targets.map((t) => t.link.name));
  return targets.flatMap((t) => {
    const now: Link | undefined = links.get(t.link.name);
    const again = now && now.ifindex === t.link.ifindex ? classify(now, ctx.derive) : undefined;
    if (again && isTarget(again)) return [again];
    failed.set(t.link.name, again ? `its MAC changed to ${again.link.mac} meanwhile` : 'no such interface (it vanished)');
    return [];
  });
}

/** One error line per interface that failed without a failed step of its own (read back not as wanted). */
export function logUnconverged(result: ConvergeResult, log: Logger): void {
  for (const r of result.interfaces) {
    const stepFailed = result.outcomes.some((o) => o.error !== undefined && outcomeIfname(o) === r.ifname);
    if (!r.ok && !stepFailed) log.log('error', r.ifname, r.error ?? 'failed', { cause: r.error });
  }
}

/** Logs a converge result: each step applied, the interfaces that did not converge, then "configured". */
export function logConverged(result: ConvergeResult, log: Logger): void {
  logOutcomes(result.outcomes, log);
  logUnconverged(result, log);
  logConfigured(result.interfaces, log);
}
