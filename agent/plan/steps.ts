import type { LinkSysctl } from '../convention/link-settings';
import type { Addr, Route } from '../convention/types';
import type { Ruleset } from '../nft/ruleset';

// A plan is an ordered list of these steps: plain data, printable as JSON,
// and executed by whichever backend implements every action.
export type Step =
  /** The link's own settings that differ: its group (absent: right already) and sysctls. */
  | { readonly action: 'link-set'; readonly ifname: string; readonly group?: number; readonly sysctls: readonly SysctlSetting[] }
  | { readonly action: 'link-up'; readonly ifname: string }
  | { readonly action: 'addr-add'; readonly ifname: string; readonly addr: Addr }
  | { readonly action: 'addr-del'; readonly ifname: string; readonly addr: Addr }
  | { readonly action: 'route-add'; readonly ifname: string; readonly route: Route }
  | { readonly action: 'route-del'; readonly ifname: string; readonly route: Route }
  | { readonly action: 'forwarding-on' }
  /** Replace `table inet guestnet` (the boundary) as a whole with this one. */
  | { readonly action: 'uplink-set'; readonly table: Ruleset }
  | { readonly action: 'uplink-del' };

export interface SysctlSetting {
  readonly sysctl: LinkSysctl;
  readonly value: string;
}

/** Steps about the whole VM rather than one interface. */
export type VmStep = Extract<Step, { action: 'forwarding-on' | 'uplink-set' | 'uplink-del' }>;
export type LinkStep = Exclude<Step, VmStep>;

export function isLinkStep(step: Step): step is LinkStep {
  return 'ifname' in step;
}

export type Action = Step['action'];

export type StepOf<A extends Action> = Extract<Step, { action: A }>;

/** What became of one step. `error` is the cause, without the interface name. */
export interface Outcome {
  readonly step: Step;
  readonly error?: string;
}
