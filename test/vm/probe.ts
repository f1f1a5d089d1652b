// Packet counters on the host side's bridge ports (nftables, bridge family):
// what crossed between VMs, seen from outside every guest.
import type { HostSide } from './fixture';

export class BridgeProbe {
  private counters = 0;

  constructor(private readonly host: HostSide) {
    this.nft('add table bridge probe');
    this.nft('add chain bridge probe pre { type filter hook prerouting priority -300; }');
    this.nft('add chain bridge probe tx { type filter hook forward priority -300; }');
  }

  /**
   * Counts frames matching `match` from now on; the counter's name. In
   * `pre` as they enter the bridge (`iifname "tap" ip length 1139`), in
   * `tx` as it hands them to a port (`oifname "tap" ...`).
   */
  count(match: string, chain: 'pre' | 'tx' = 'pre'): string {
    const name = `c${this.counters++}`;
    this.nft(`add counter bridge probe ${name}`);
    this.nft(`add rule bridge probe ${chain} ${match} counter name ${name}`);
    return name;
  }

  read(name: string): number {
    const out = JSON.parse(this.nft('-j', `list counter bridge probe ${name}`)) as { nftables: { counter?: { packets: number } }[] };
    return out.nftables.find((o) => o.counter)?.counter?.packets ?? NaN;
  }

  /** nft joins its arguments into one command line: no shell, no quoting. */
  private nft(...args: string[]): string {
    return this.host.ns.exec('nft', ...args);
  }
}
