import type { InterfaceStatus } from '../commands/status';
import type { SchemeName } from '../convention/types';
import type { LinkStats } from './link-stats';
import type { MachineFacts } from './machine';

// The report as --json prints it. `schema` changes only when a field is
// removed or changes meaning; new fields may appear within a version.

export const REPORT_SCHEMA = 1;

export interface GuestnetFacts {
  readonly version: string;
  /** The backend this run used: netlink or ip. */
  readonly backend: string;
  readonly scheme: SchemeName;
  readonly gateway: string;
  readonly clientPrefix: number;
  readonly defaultRoute: boolean;
}

/** What `status` shows of a link, plus what the kernel counts on it. */
export type ReportInterface = InterfaceStatus & LinkStats;

/**
 * The provider's way out. The nftables table guestnet owns (SPEC §7) is to
 * be reported here as a field of its own once its reader exists.
 */
export interface UplinkFacts {
  /** net.ipv4.ip_forward in this network namespace. */
  readonly forwarding: boolean;
}

export type CheckId =
  | 'client-default-route'
  | 'default-route-metrics'
  | 'unowned-addresses'
  | 'provider-forwarding'
  | 'inter-guest-links-up'
  | 'provider-uplink-address';

export type Verdict = 'ok' | 'problem' | 'hint';

export interface Check {
  readonly id: CheckId;
  readonly verdict: Verdict;
  /** What was found, for problem and hint; absent when ok. */
  readonly detail?: string;
}

export interface Report {
  readonly schema: typeof REPORT_SCHEMA;
  readonly guestnet: GuestnetFacts;
  readonly machine: MachineFacts;
  readonly interfaces: readonly ReportInterface[];
  readonly uplink: UplinkFacts;
  readonly checks: readonly Check[];
}
