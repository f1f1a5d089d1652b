import type { Outcome, StepOf, VmStep } from '../plan/steps';
import { enableForwarding } from './forwarding';
import type { UplinkDriver } from './uplink-driver';

// Executors for the steps about the whole VM, shared by every backend: one
// per action, so a new VM-wide step that lacks one does not compile.

type Executors = { readonly [A in VmStep['action']]: (step: StepOf<A>) => Promise<string | undefined> };

function executors(uplink: UplinkDriver, forwardingPath: string | undefined): Executors {
  return {
    'forwarding-on': async () => enableForwarding(forwardingPath),
    'uplink-set': (step) => uplink.set(step.table),
    'uplink-del': () => uplink.del(),
  };
}

/** Runs one VM-wide step; the outcome carries the cause on failure. */
export async function runVmStep(step: VmStep, uplink: UplinkDriver, forwardingPath?: string): Promise<Outcome> {
  const run = executors(uplink, forwardingPath)[step.action] as (s: VmStep) => Promise<string | undefined>;
  const error = await run(step);
  return error === undefined ? { step } : { step, error };
}
