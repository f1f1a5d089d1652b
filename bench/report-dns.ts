import { median } from './common';
import { mib, ms, ratio, table } from './format';
import type { DnsResults, DnsRow } from './results';

// The DNS section of RESULTS.md (bench/dns.ts): each forwarder per query file,
// and guestnet dns held against dnsmasq without a cache (the targets: at least dnsmasq's queries per second, p99 no worse).

const TARGET_BASE = 'dnsmasq --cache-size=0';

const qps = (r: DnsRow): number => median(r.qps);

function row(r: DnsRow, base: DnsRow | undefined): string[] {
  return [
    r.server, `${r.queries} (${r.names} names)`, qps(r).toFixed(0), base ? ratio(qps(r) / qps(base)) : '',
    ms(r.p50Ms), ms(r.p99Ms), `${r.answered}${r.lost ? ` (${r.lost} lost)` : ''}`,
    r.cpuS > 0 ? ((r.cpuS * 1e6) / Math.max(1, r.answered)).toFixed(1) : '', mib(r.rssKiB),
  ];
}

export function dnsTable(d: DnsResults): string {
  const base = (q: DnsRow['queries']) => d.rows.find((r) => r.server === TARGET_BASE && r.queries === q);
  const rows = d.rows.map((r) => row(r, base(r.queries)));
  const head = ['forwarder', 'queries', 'q/s (median round)', `÷ ${TARGET_BASE}`, 'p50 ms', 'p99 ms', 'answered', 'CPU µs/query', 'peak RSS MiB'];
  return `${d.rounds} round(s) of ${d.seconds} s per lane, interleaved; ${d.date}.\n\n${table(head, rows)}`;
}

/** The targets: q/s ≥ 1.0× and p99 ≤ dnsmasq without a cache, on the distinct names. */
export function dnsTargets(d: DnsResults): string {
  const g = d.rows.find((r) => r.server === 'guestnet dns' && r.queries === 'distinct');
  const b = d.rows.find((r) => r.server === TARGET_BASE && r.queries === 'distinct');
  if (!g || !b) return 'Not in these results.\n';
  const q = qps(g) / qps(b);
  return table(['target', 'guestnet dns', TARGET_BASE, 'verdict'], [
    ['q/s ≥ 1.0× dnsmasq', qps(g).toFixed(0), qps(b).toFixed(0), `${ratio(q)} — **${q >= 1 ? 'met' : 'missed'}**`],
    ['p99 ≤ dnsmasq', `${ms(g.p99Ms)} ms`, `${ms(b.p99Ms)} ms`, `**${g.p99Ms <= b.p99Ms ? 'met' : 'missed'}**`],
  ]);
}
