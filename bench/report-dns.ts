import { median } from './common';
import { mib, ms, ratio, table } from './format';
import type { DnsResults, DnsRow } from './results';

// The DNS section of RESULTS.md (bench/dns.ts): each forwarder per query file,
// and guestnet dns held against dnsmasq without a cache (the targets: at least dnsmasq's queries per second, p99 no worse).

const TARGET_BASE = 'dnsmasq --cache-size=0';

const qps = (r: DnsRow): number => median(r.qps);

const offered = (r: DnsRow): string => (r.rate ? `${r.rate}` : 'all it can (100 outstanding)');

function row(r: DnsRow, base: DnsRow | undefined): string[] {
  return [
    r.server, `${r.queries} (${r.names} names)`, offered(r), qps(r).toFixed(0), base ? ratio(qps(r) / qps(base)) : '',
    ms(r.p50Ms), ms(r.p99Ms), `${r.answered}${r.lost ? ` (${r.lost} lost)` : ''}`,
    r.cpuS > 0 ? ((r.cpuS * 1e6) / Math.max(1, r.answered)).toFixed(1) : '', mib(r.rssKiB),
  ];
}

export function dnsTable(d: DnsResults): string {
  const base = (r: DnsRow) => d.rows.find((b) => b.server === TARGET_BASE && b.queries === r.queries && b.rate === r.rate);
  const rows = d.rows.map((r) => row(r, base(r)));
  const head = ['forwarder', 'queries', 'offered q/s', 'q/s (median round)', `÷ ${TARGET_BASE}`, 'p50 ms', 'p99 ms', 'answered', 'CPU µs/query', 'peak RSS MiB'];
  return `${d.rounds} round(s) of ${d.seconds} s per lane, interleaved; ${d.date}.\n\n${table(head, rows)}`;
}

/**
 * The targets: q/s ≥ 1.0× and p99 ≤ dnsmasq without a cache, on the
 * distinct names; p99 both at saturation and at the fixed offered load.
 */
export function dnsTargets(d: DnsResults): string {
  const find = (server: string, rate?: number) => d.rows.find((r) => r.server === server && r.queries === 'distinct' && r.rate === rate);
  const [g, b] = [find('guestnet dns'), find(TARGET_BASE)];
  if (!g || !b) return 'Not in these results.\n';
  const q = qps(g) / qps(b);
  const p99 = (what: string, gr: DnsRow, br: DnsRow) => [what, `${ms(gr.p99Ms)} ms`, `${ms(br.p99Ms)} ms`, `**${gr.p99Ms <= br.p99Ms ? 'met' : 'missed'}**`];
  const rows = [
    ['q/s ≥ 1.0× dnsmasq', qps(g).toFixed(0), qps(b).toFixed(0), `${ratio(q)} — **${q >= 1 ? 'met' : 'missed'}**`],
    p99('p99 ≤ dnsmasq, each as fast as it goes', g, b),
  ];
  const rate = d.rows.find((r) => r.rate)?.rate;
  const [gf, bf] = rate ? [find('guestnet dns', rate), find(TARGET_BASE, rate)] : [];
  if (gf && bf) rows.push(p99(`p99 ≤ dnsmasq, both offered ${rate} q/s`, gf, bf));
  return table(['target', 'guestnet dns', TARGET_BASE, 'verdict'], rows);
}
