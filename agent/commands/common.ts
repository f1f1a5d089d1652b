import type { Backend } from '../apply/backend';
import type { DeriveOptions, KernelState, Link, Role, Route } from '../convention/types';
import type { BoundaryOptions } from '../convention/boundary';
import { EnvironmentError } from '../errors';
import type { Logger } from '../log';
import { isLinkStep, type Outcome } from '../plan/steps';
import { describeStep } from '../apply/ip-commands';

/** What every command that reads sysfs is given. */
export interface Context {
  readonly derive: DeriveOptions;
  /** The provider's boundary (firewall table); DEFAULT_BOUNDARY when absent. */
  readonly boundary?: BoundaryOptions;
  readonly sysfs: string;
  readonly log: Logger;
}

export interface InterfaceResult {
  readonly ifname: string;
  readonly role: Role;
  readonly ok: boolean;
  /** The first error's cause when not ok. */
  readonly error?: string;
}

export function outcomeIfname(o: Outcome): string | undefined {
  return isLinkStep(o.step) ? o.step.ifname : undefined;
}

/** Logs each outcome: one line per change or error. */
export function logOutcomes(outcomes: readonly Outcome[], log: Logger): void {
  for (const o of outcomes) {
    const ifname = outcomeIfname(o);
    if (o.error === undefined) log.log('info', ifname, describeStep(o.step), { action: o.step.action });
    else log.log('error', ifname, `${describeStep(o.step)}: ${o.error}`, { action: o.step.action, cause: o.error });
  }
}

/** Reads state; an environment failure names the interfaces it leaves unconfigured. */
export async function readStateNaming(
  backend: Backend,
  links: readonly Link[],
  expected?: ReadonlyMap<number, readonly Route[]>,
): Promise<KernelState> {
  try {
    return await backend.readState(links, expected);
  } catch (err) {
    const names = links.map((l) => l.name);
    throw err instanceof EnvironmentError && names.length > 0 ? new EnvironmentError(err.what, names) : err;
  }
}

/** The closing line per interface that came out right (the serial console's "configured"). */
export function logConfigured(results: readonly InterfaceResult[], log: Logger): void {
  for (const r of results) {
    if (r.ok) log.log('info', r.ifname, `configured as ${r.role}`, { event: 'configured', role: r.role });
  }
}
