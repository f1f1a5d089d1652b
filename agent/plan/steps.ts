import type { Addr, Route } from '../convention/types';

// A plan is an ordered list of these steps: plain data, printable as JSON,
// and executed by whichever backend implements every action.
export type Step =
  | { readonly action: 'link-up'; readonly ifname: string }
  | { readonly action: 'addr-add'; readonly ifname: string; readonly addr: Addr }
  | { readonly action: 'addr-del'; readonly ifname: string; readonly addr: Addr }
  | { readonly action: 'route-add'; readonly ifname: string; readonly route: Route }
  | { readonly action: 'route-del'; readonly ifname: string; readonly route: Route }
  | { readonly action: 'forwarding-on' };

export type Action = Step['action'];

export type StepOf<A extends Action> = Extract<Step, { action: A }>;

/** What became of one step. `error` is the cause, without the interface name. */
export interface Outcome {
  readonly step: Step;
  readonly error?: string;
}
