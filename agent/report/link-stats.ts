import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UNKNOWN, type Unknown } from './machine';

// Operational state, MTU and the kernel's counters of one link, from sysfs:
// they are there for links that are down too (systeminformation skips those).

export interface LinkCounters {
  readonly rxPackets: number | Unknown;
  readonly txPackets: number | Unknown;
  readonly rxErrors: number | Unknown;
  readonly txErrors: number | Unknown;
  readonly rxDropped: number | Unknown;
  readonly txDropped: number | Unknown;
}

export interface LinkStats {
  /** RFC 2863 state as the kernel names it: up, down, lowerlayerdown, unknown, ... */
  readonly operstate: string;
  /**
   * Whether the other end is there (the kernel's carrier); "unknown" while the
   * link is set down. Unlike operstate it is current the moment a link comes up.
   */
  readonly carrier: boolean | Unknown;
  readonly mtu: number | Unknown;
  readonly counters: LinkCounters;
}

/** One sysfs attribute, or undefined when the link vanished or lacks it. */
function attr(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), 'utf8').trim();
  } catch {
    return undefined; // a link that went away meanwhile: the report still comes out
  }
}

function num(text: string | undefined): number | Unknown {
  const n = Number(text);
  return text === undefined || text === '' || !Number.isFinite(n) ? UNKNOWN : n;
}

export function readLinkStats(sysfs: string, ifname: string): LinkStats {
  const dir = join(sysfs, ifname);
  const carrier = attr(dir, 'carrier'); // EINVAL while the link is down
  const stat = (name: string): number | Unknown => num(attr(dir, `statistics/${name}`));
  return {
    operstate: attr(dir, 'operstate') ?? UNKNOWN,
    carrier: carrier === undefined ? UNKNOWN : carrier === '1',
    mtu: num(attr(dir, 'mtu')),
    counters: {
      rxPackets: stat('rx_packets'),
      txPackets: stat('tx_packets'),
      rxErrors: stat('rx_errors'),
      txErrors: stat('tx_errors'),
      rxDropped: stat('rx_dropped'),
      txDropped: stat('tx_dropped'),
    },
  };
}
