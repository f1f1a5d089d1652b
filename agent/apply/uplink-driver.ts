import type { UplinkTable } from '../convention/uplink';

/**
 * How a backend reads and writes the uplink table (`nft` or nf_tables over
 * netlink). read() throws an EnvironmentError when nftables cannot be used
 * at all (no nft binary, no nf_tables in the kernel); set and del return
 * the cause of a failure, or undefined.
 */
export interface UplinkDriver {
  /** The table as the kernel holds it, or undefined if there is none. */
  read(): Promise<UplinkTable | undefined>;
  /** Replaces the table as a whole, in one transaction. */
  set(table: UplinkTable): Promise<string | undefined>;
  /** Removes the table if present. */
  del(): Promise<string | undefined>;
  /** Releases a socket it holds open, if any. */
  close?(): void;
}
