// Plain value types shared by every layer. No I/O here.
import type { LinkSettings, SysctlValues } from './link-settings';

export type Role = 'client' | 'provider';

/** How an interface relates to the Spectrum convention. */
export type Kind = Role | 'hardware' | 'ignored';

export type SchemeName = 'oui' | 'laa';

/** An IPv4 address with its prefix length, e.g. 100.64.165.70/32. */
export interface Addr {
  readonly address: string;
  readonly prefix: number;
  /** IFA_PROTO as read from the kernel (Linux >= 6.1), absent when unset or unknown. */
  readonly proto?: number;
}

/** An IPv4 route in the main table through one interface. */
export interface Route {
  /** 'default' or a CIDR such as 169.254.0.1/32. */
  readonly dst: string;
  readonly via?: string;
  readonly metric: number;
  /** The route protocol (rtm_protocol) as read from the kernel, absent when the reader cannot see it. */
  readonly proto?: number;
}

/** A network interface as discovered in sysfs. */
export interface Link {
  readonly name: string;
  readonly ifindex: number;
  /** Lower-case colon-separated MAC, as sysfs prints it. */
  readonly mac: string;
  /** ARPHRD_* type; 1 is Ethernet. */
  readonly type: number;
  /** IFF_UP is set. */
  readonly up: boolean;
  /** The link group (IFLA_GROUP, sysfs netdev_group); 0 by default. */
  readonly group: number;
  /** Its sysctls, where the kernel's link message carried them (netlink; sysfs has none). */
  readonly sysctls?: SysctlValues;
}

/**
 * Links of one role whose MACs derive the same client address (the
 * derivation ignores part of the MAC): like a duplicate address, none of
 * them gets it (agent/convention/collision.ts).
 */
export interface Collision {
  readonly address: string;
  readonly role: Role;
  /** Every link involved, sorted. */
  readonly ifnames: readonly string[];
}

/** What the convention asks for on one inter-guest interface. */
export interface Desired {
  readonly ifname: string;
  readonly role: Role;
  /** The client address the MAC stands for: a client's own, a provider's route target. */
  readonly client: string;
  /** Absent on a client refused for a collision. */
  readonly addr?: Addr;
  /** In the order they must be installed. */
  readonly routes: readonly Route[];
  /** Group and sysctls of the link itself; provider links only. */
  readonly settings?: LinkSettings;
  /** Present when the link is refused its client address or route. */
  readonly collision?: Collision;
}

/** The kernel's current IPv4 state of one interface. */
export interface LinkState {
  readonly addrs: readonly Addr[];
  readonly routes: readonly Route[];
  /** The link's sysctls as read (one left out: no such file, e.g. no IPv6); absent when not read. */
  readonly sysctls?: SysctlValues;
}

export interface KernelState {
  readonly links: ReadonlyMap<string, LinkState>;
  readonly forwarding: boolean;
}

export interface DeriveOptions {
  readonly scheme: SchemeName;
  readonly gateway: string;
  readonly clientPrefix: number;
  readonly defaultRoute: boolean;
}

export const DEFAULT_OPTIONS: DeriveOptions = {
  scheme: 'oui',
  gateway: '169.254.0.1',
  clientPrefix: 32,
  defaultRoute: true,
};
