import type { InterfaceStatus, UplinkStatus } from '../commands/status';
import type { SchemeName } from '../convention/types';
import type { DnsFacts } from '../dns/state';
import type { LinkStats } from './link-stats';
import type { MachineFacts } from './machine';

// The report as --json prints it. `schema` changes only when a field is
// removed or changes meaning; new fields may appear within a version.

export const REPORT_SCHEMA = 2;

export interface GuestnetFacts {
  readonly version: string;
  /** The backend this run used: netlink or ip. */
  readonly backend: string;
  readonly scheme: SchemeName;
  readonly gateway: string;
  readonly clientPrefix: number;
  readonly defaultRoute: boolean;
  /** The firewall's options (--no-masquerade, --allow-client-to-client, --client-flow-limit, --open-port). */
  readonly masquerade: boolean;
  readonly isolate: boolean;
  /** New forwarded flows per client, as configured: a number, "auto" or "off". */
  readonly clientFlowLimit: number | 'auto' | 'off';
  /** PROTO/PORT, as --open-port gave them. */
  readonly openPorts: readonly string[];
}

/** What `status` shows of a link, plus what the kernel counts on it. */
export type ReportInterface = InterfaceStatus & LinkStats;

/** The provider's way out. */
export interface UplinkFacts {
  /** net.ipv4.ip_forward in this network namespace. */
  readonly forwarding: boolean;
  /** The firewall, `table inet guestnet` (SPEC §7, §9), as `status` shows it. */
  readonly table: UplinkStatus;
}

export type CheckId =
  | 'client-default-route'
  | 'default-route-metrics'
  | 'unowned-addresses'
  | 'client-address-collisions'
  | 'misplaced-state'
  | 'provider-forwarding'
  | 'inter-guest-links-up'
  | 'provider-uplink-address'
  | 'uplink-table';

export type Verdict = 'ok' | 'problem' | 'hint';

export interface Check {
  readonly id: CheckId;
  readonly verdict: Verdict;
  /** What was found, for problem and hint; absent when ok. */
  readonly detail?: string;
}

export interface Report {
  /** `guestnet dns`, the clients' resolver on a provider (its state file). */
  readonly dns: DnsFacts;
  readonly schema: typeof REPORT_SCHEMA;
  readonly guestnet: GuestnetFacts;
  readonly machine: MachineFacts;
  readonly interfaces: readonly ReportInterface[];
  readonly uplink: UplinkFacts;
  readonly checks: readonly Check[];
}
