import type { FoundTables } from '../nft/decode';
import type { Ruleset } from '../nft/ruleset';

/**
 * How a backend reads and writes the boundary's table (`nft` or nf_tables
 * over netlink). read() throws an EnvironmentError when nftables cannot be
 * used at all (no nft binary, no nf_tables in the kernel); set and del
 * return the cause of a failure, or undefined.
 */
export interface UplinkDriver {
  /** guestnet's tables as the kernel holds them. */
  read(): Promise<FoundTables>;
  /** Replaces the table as a whole, in one transaction. */
  set(table: Ruleset): Promise<string | undefined>;
  /** Removes guestnet's tables if present. */
  del(): Promise<string | undefined>;
  /** Releases a socket it holds open, if any. */
  close?(): void;
}
