// The rtnetlink request for each link step, and what its answer means.
import type { LinkStep, Outcome, Step, StepOf } from '../plan/steps';
import { EADDRNOTAVAIL, EEXIST, ENOENT, ESRCH, errnoText } from './errno';
import type { NlError } from './message';
import { addrAdd, addrDel, linkGroup, linkUp, routeAdd, routeDel } from './rtnl';

// Answers that mean "already so", which concurrent runs must treat as success.
const ALREADY_ADDED: readonly number[] = [EEXIST];
const ALREADY_GONE: readonly number[] = [ESRCH, EADDRNOTAVAIL, ENOENT];

/**
 * The link steps that are one request each: a link-set step is one only
 * for its group (its sysctls are file writes), and only when it has one.
 */
export type RequestStep =
  | Exclude<LinkStep, StepOf<'link-set'>>
  | (StepOf<'link-set'> & { readonly group: number });

/** The request for one step, sequence number left 0 for the channel to fill. */
export function encodeStep(step: RequestStep, index: number): Uint8Array {
  switch (step.action) {
    case 'link-set': return linkGroup(0, index, step.group);
    case 'link-up': return linkUp(0, index);
    case 'addr-add': return addrAdd(0, index, step.addr);
    case 'addr-del': return addrDel(0, index, step.addr);
    case 'route-add': return routeAdd(0, index, step.route);
    case 'route-del': return routeDel(0, index, step.route);
  }
}

export function toOutcome(step: Step, answer: NlError): Outcome {
  if (answer.errno === 0) return { step };
  const tolerated = step.action === 'addr-del' || step.action === 'route-del' ? ALREADY_GONE : ALREADY_ADDED;
  if (tolerated.includes(answer.errno)) return { step };
  return { step, error: errnoText(answer.errno, answer.message) };
}
