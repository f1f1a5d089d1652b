import type { KernelState, Link, Route } from '../convention/types';
import type { FoundTables } from '../nft/decode';
import type { Outcome, Step } from '../plan/steps';

/**
 * Something that can read the kernel's IPv4 state and apply a plan.
 * An "exists" answer to an add and a "not found" answer to a delete are
 * success, so concurrent runs converge instead of failing.
 */
export interface Backend {
  readonly name: string;
  /**
   * The IPv4 state of these links. `expected`: routes by ifindex that a
   * backend may confirm with exact look-ups instead of reading every route
   * of the link, for links no other route of guestnet's can be on (just
   * created); once all are confirmed, the link's routes are just these.
   */
  readState(links: readonly Link[], expected?: ReadonlyMap<number, readonly Route[]>): Promise<KernelState>;
  /**
   * guestnet's nftables tables as the kernel holds them. Throws an
   * EnvironmentError when nftables cannot be used here at all.
   */
  readUplink(): Promise<FoundTables>;
  /**
   * Applies every step it can; one outcome per step, in order. `links`, by
   * name, are the links the plan was made for: a backend that addresses
   * links by index may take theirs rather than look the names up again.
   */
  apply(steps: readonly Step[], links?: ReadonlyMap<string, Link>): Promise<Outcome[]>;
  /** Every link, when the backend reads them from the kernel itself (else discovery reads sysfs). */
  listLinks?(): Link[];
  /** The link with this ifindex (undefined: none), when the backend can ask the kernel for one link. */
  linkAt?(ifindex: number): Link | undefined;
  /** The named links as the kernel has them now (a name left out: no such link); like listLinks, optional. */
  linksNamed?(names: readonly string[]): Map<string, Link>;
  /** Set when steps go to links by name (`ip`): a rename meanwhile can send them to another link. */
  readonly byName?: boolean;
  /** The same kernel by ifindex, when a by-name backend has it: for undoing what a rename misplaced. */
  byIndex?(): Backend | undefined;
  /** Releases what the backend holds open (a socket), for long-running callers. */
  close?(): void;
}
