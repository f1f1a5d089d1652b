import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chart } from './chart';
import { median, percentile, ROOT } from './common';
import { mib, ms, na, ratio, table } from './format';
import { bootRow, smallestBase, type EmulatedResults, type ForwardResults, type HotplugResults, type IdleResults, type Results } from './results';
import { manyLinksTargets, scalingTable, startupTargets } from './scaling';
import { bounds } from './bounds';
import { targets } from './targets';
import { dnsTable, dnsTargets } from './report-dns';
import { REFERENCE_MAX_N } from './programs';

// Results (bench/results/*.json) -> bench/RESULTS.md and bench/chart.svg.
// Every number printed here is measured; the targets are compared, not asserted.

/** Above this share of "CPU outside the benchmark" during a run, the report warns of noise. */
const NOISY_PCT = 15;

function bootTable(r: Results): string {
  const rows: string[][] = [];
  for (const n of r.config.sizes) {
    const ref = bootRow(r, n, 'reference');
    const floor = bootRow(r, n, 'floor');
    for (const b of r.boot.filter((x) => x.n === n)) {
      if (!b.ok || b.ms.length === 0) {
        rows.push([String(n), b.label, na(b.reason), '', '', '', '', '', '']);
        continue;
      }
      const m = median(b.ms);
      rows.push([
        String(n), b.label, ms(m), ms(percentile(b.ms, 90)),
        ref ? ratio(m / median(ref.ms)) : '', floor ? ratio(m / median(floor.ms)) : '',
        mib(b.rssKiB), b.cpuMs.length ? ms(median(b.cpuMs)) : '', `${b.ms.length}${b.errors ? ` (${b.errors} failed)` : ''}`,
      ]);
    }
  }
  return table(['N', 'program', 'median ms', 'p90 ms', '÷ reference', '÷ floor', 'peak RSS MiB', 'CPU ms', 'runs'], rows);
}

function startupTable(r: Results): string {
  const rows = r.startup.map((s) => [`\`${s.label}\``, ms(median(s.ms)), ms(percentile(s.ms, 90)), mib(s.rssKiB)]);
  return table(['command', 'median ms', 'p90 ms', 'peak RSS MiB'], rows);
}

function hotplugTable(h: HotplugResults): string {
  const ref = h.lanes.find((l) => l.key === 'reference');
  const floor = h.lanes.find((l) => l.key === 'floor');
  const refM = ref?.ok ? median(ref.ms) : NaN;
  const floorM = floor?.ok ? median(floor.ms) : NaN;
  const rows = h.lanes.map((l) => {
    if (!l.ok || l.ms.length === 0) return [l.label, l.how, na(l.reason), '', '', '', ''];
    const m = median(l.ms);
    return [l.label, l.how, ms(m), ms(percentile(l.ms, 99)), ratio(m / refM), ratio(m / floorM), `${l.ms.length}${l.failures ? ` + ${l.failures} failed` : ''}`];
  });
  return table(['program', 'how', 'median ms', 'p99 ms', '÷ reference', '÷ floor', 'events'], rows);
}

/** The uplink table's cost at boot, per variant, beside a client's apply. */
function uplinkTable(r: Results): string {
  if (!r.uplink) return 'Not in these results (run `make bench`).\n';
  const rows = r.uplink.map((u) => [u.variant, u.case, ms(median(u.ms)), ms(percentile(u.ms, 90)), ms(median(u.cpuMs)), `${u.ms.length}${u.errors ? ` (${u.errors} failed)` : ''}`]);
  return table(['variant', 'apply of one link', 'median ms', 'p90 ms', 'CPU ms', 'runs'], rows);
}

/** Forwarding throughput, guestnet's firewall against masquerade only (target ≥ 0.9×). */
export function forwardSection(f: ForwardResults | undefined): string {
  if (!f) return 'Not run yet: `make bench` or `BENCH_FLAGS=--forward-only`.\n';
  const gbps = (links: number, fw: string, proto: string): number[] =>
    f.rows.find((r) => r.links === links && r.firewall === fw && r.proto === proto)?.gbps ?? [];
  const rows = [...new Set(f.rows.map((r) => r.links))].flatMap((links) =>
    (['tcp', 'udp'] as const).map((proto) => {
      const [g, m] = [gbps(links, 'guestnet', proto), gbps(links, 'masquerade-only', proto)];
      const pairs = g.map((x, i) => x / m[i]);
      const [lo, mid, hi] = [25, 50, 75].map((p) => percentile(pairs, p));
      // A verdict only where the middle half of the pairs is on one side of the target.
      const verdict = lo >= 0.9 ? 'met' : hi < 0.9 ? '**missed**' : 'within noise';
      return [String(links), proto.toUpperCase(), median(g).toFixed(2), median(m).toFixed(2), ratio(mid), `${ratio(lo)}–${ratio(hi)}`, verdict, String(pairs.length)];
    }),
  );
  return `Run of ${f.date.slice(0, 16).replace('T', ' ')} UTC${f.quick ? ' (quick)' : ''}, \`${f.variant}\` on the netvm.
iperf3 from one client (the first provider link) to an upstream host through the netvm, TCP and
UDP (\`-b 0 -l 1400\`, received rate), with guestnet's firewall and with only today's masquerade
(\`table ip today\`, one rule, loaded with \`nft -f\`; reverse-path filter off), run back to back
in pairs (order alternating); medians in Gbit/s, and the median and quartiles of the pairs'
ratios. Target: ≥ 0.9× masquerade only: *met* when the lower quartile is at or above it, *missed*
when the upper quartile is below it, *within noise* otherwise.

${table(['provider links', 'proto', 'guestnet Gbit/s', 'masquerade only Gbit/s', 'ratio (median pair)', 'quartiles', '≥ 0.9×', 'pairs'], rows)}
Where the firewall's cost goes (profile, and the table with each part taken out): \`bench/FORWARDING.md\`.`;
}

/** The idle run is separate (`make bench-idle`), so it says when and on which build it ran. */
function idleTable(idle: IdleResults | undefined): string {
  if (!idle) return 'Not run yet: `make bench-idle` (10 minutes).\n';
  if (!idle.rows.some((x) => x.ok)) return `n/a on ${idle.date.slice(0, 10)}: ${idle.rows.map((x) => `${x.label}: ${x.reason}`).join('; ')}.\n`;
  const rows = idle.rows.map((x) =>
    x.ok
      ? [`guestnet watch (${x.label})`, `${x.wallS!.toFixed(0)} s`, `${(x.cpuS! * 1000).toFixed(0)} ms`, `${x.cpuPct!.toFixed(3)}%`, x.wakeupsPerS!.toFixed(2), mib(x.rssKiB), mib(x.hwmKiB), String(x.threads ?? ''), x.note ?? '']
      : [`guestnet watch (${x.label})`, na(x.reason), '', '', '', '', '', '', ''],
  );
  return `Run ending ${idle.date.slice(0, 16).replace('T', ' ')} UTC${idle.build ? ` (${idle.build})` : ''}, ${idle.links} links configured by the watch itself, measured after a 5 s settle.\n\n` +
    table(['program', 'window', 'CPU', 'CPU %', 'wakeups/s', 'RSS MiB', 'peak RSS MiB', 'threads', 'note'], rows);
}

const EMULATED_HEADING = '## aarch64, emulated';

/** The aarch64 build under qemu-user beside this machine's: side by side, never divided. */
function emulatedSection(e: EmulatedResults | undefined): string {
  const intro = `${EMULATED_HEADING}\n\n**Emulated, not native.**`;
  if (!e) return `${intro} Not in these results (run \`make bench\`).\n`;
  if (!e.available) return `${intro} n/a on ${e.date.slice(0, 10)}: ${e.reason}.\n`;
  const rows = e.rows.map((x) => [
    `\`${x.label}\``, ms(median(x.native)), ms(median(x.emulated)), ms(percentile(x.emulated, 90)),
    `${x.emulated.length}${x.errors ? ` (${x.errors} failed)` : ''}`,
  ]);
  const busy = e.othersPct === undefined ? '' : ` Other work used ${Math.max(0, e.othersPct).toFixed(0)}% of the machine meanwhile${e.othersPct > NOISY_PCT ? ' — **expect noise, in both columns**' : ''}.`;
  return `${intro} The aarch64 executable (${e.build}) run by ${e.qemu} on this x86_64 machine,
interleaved with this machine's own build in the same namespace and timer, on ${e.date.slice(0, 16).replace('T', ' ')} UTC.${busy} It shows that the
aarch64 build starts and configures links; its times are dominated by translating code and say nothing
about aarch64 hardware, so no column is divided by the other. Client links only: a provider's uplink
table is nf_tables over netlink, which qemu-user does not translate.

${table(['command', 'x86_64, native: median ms', 'aarch64 under qemu-user: median ms', 'emulated p90 ms', 'runs'], rows)}`;
}

/** When, on what, and how busy the machine was. */
function header(r: Results): string {
  const m = r.machine;
  const noisy = m.background.beforePct > 10 || m.background.duringPct > NOISY_PCT;
  return `Generated by \`make bench\` (\`bench/bench.ts\`) on ${r.date.slice(0, 16).replace('T', ' ')} UTC in ${r.durationS} s${r.config.quick ? ' — **quick run, few repetitions**' : ''}.

Machine: ${m.nproc} CPUs (${m.cpu}), Linux ${m.kernel}, ${m.memGiB} GiB RAM. CPU time used outside
the benchmark's processes: ${Math.max(0, m.background.beforePct).toFixed(0)}% of the machine in the 2 s before the run, ${Math.max(0, m.background.duringPct).toFixed(0)}% during it
(kernel threads included)${noisy ? ' — **other work was running; expect noise**' : ''}.
Software: guestnet ${m.guestnet} (checkout ${m.commit}), bun ${m.bun}, iproute2 ${m.iproute2}, ${m.busybox}.
guestnet variants: ${r.variants.map((v) => `\`${v.label}\` = \`guestnet ${v.args.join(' ')}\`${v.available ? '' : ` (n/a: ${v.reason})`}`).join(', ')}.
`;
}

function howToRun(r: Results): string {
  return `- \`make bench\` — everything above except idle (needs root; about ${Math.max(1, Math.round(r.durationS / 60))} min here).
  \`make bench BENCH_FLAGS='--quick'\` tries the harness in under a minute.
- \`make bench BENCH_FLAGS=--forward-only\` — only the forwarding lane (iperf3 through the netvm, about 5 min).
- \`make bench-idle\` — \`guestnet watch\` left alone for 10 minutes (not in CI); then
  \`make bench\` or \`node_modules/.bin/bun run bench/bench.ts --report\` folds it in here.
- More guestnet columns: \`BENCH_FLAGS="--variant auto --variant netlink --variant 'mine=/path/to/guestnet --backend ip'"\`.
- \`make bench BENCH_FLAGS=--emulated\` — only the aarch64 lane (needs \`make build images ARCH=arm64\`).
- Raw samples: \`bench/results/latest.json\`, \`bench/results/idle.json\`, \`bench/results/emulated.json\` (not committed).

Method notes: every workload runs in network namespaces the harness creates and deletes; the
timed programs are started by a small timer (\`bench/runner.ts\`) that lives inside the namespace,
so \`ip netns exec\` is not part of any measurement. The reference is \`bench/reference.sh\` under
busybox sh with busybox \`ip\` and \`awk\`, one process per link, with guestnet's route metrics
so that several client links can coexist (Spectrum's scripts have none; see its header); the floor writes no
\`ip_forward\` (a file write, no process). Every program's result is checked against the expected
addresses and routes once per N before it is timed.
`;
}

function bootSection(r: Results): string {
  return `N = ${r.config.sizes.join(', ')} inter-guest links (veth, half client and half provider MACs), re-created down and
unconfigured before every run, outside the timed region. The reference runs up to N=${REFERENCE_MAX_N} (above that one run takes many seconds). Wall time from the exec of the first
process to the exit of the last one, every program interleaved round by round. Peak RSS is the
largest single process (GNU time, one extra run), with every executable read from disk as a booted VM
reads it (the bench drops their cached pages first: a binary written a moment ago maps ~6 MiB more),
CPU the median user+system time of all processes.

${bootTable(r)}`;
}

function hotplugSection(r: Results): string {
  const watch = smallestBase(r).watch;
  return `One link added to a namespace with N links already configured, events per program after
warm-up as shown, programs interleaved event by event; the link is deleted again after each
event. Latency is from the kernel's notification of the new link to the notification of its last
address or route, both time-stamped by \`ip -ts monitor\`. Per-event programs are started as
mdev would, right after the link exists. The kernel floor is one \`ip -batch -\` kept running in a
namespace of its own and fed each event's link and configuration in one write: no exec, so what it
measures is the kernel's own work for the event (and \`ip\`'s parsing), the least any program can take.${watch.available ? '' : `\n\`guestnet watch\`: n/a — ${watch.reason}.`}

${r.hotplug.map((h) => `### ${h.base} links configured (${h.events} events)\n\n${hotplugTable(h)}`).join('\n')}`;
}

function markdown(r: Results, idle: IdleResults | undefined, fwd: ForwardResults | undefined, emulated: EmulatedResults | undefined): string {
  return `# guestnet benchmark results

${header(r)}
Ratios are medians divided by medians: *÷ reference* below 1 means guestnet is faster than
Spectrum's per-interface script, *÷ floor* is the distance from one \`ip -batch\` doing the same
kernel work. Lower is better everywhere.

![boot apply time against N](chart.svg)

## Targets

${targets(r, r.variants)}
At thousands of links:

${manyLinksTargets(r)}
Start-up, against the runtime floor (an empty program compiled with guestnet's build, \`bench/empty.ts\`):

${startupTargets(r)}
## Growth with N

Boot apply: N links to configure. Hotplug: N links already configured, one more added.
A figure *grows* when it more than doubles from N=8 to the largest N.

${scalingTable(r)}
## What bounds it

${bounds(r, r.variants)}
## Boot apply

${bootSection(r)}
## Startup (no inter-guest links)

${startupTable(r)}
## Hotplug

${hotplugSection(r)}
## Uplink table at boot

${uplinkTable(r)}
## Forwarding throughput

${forwardSection(fwd)}

## DNS forwarding (\`guestnet dns\` against dnsmasq)

${r.dns ? `${dnsTargets(r.dns)}\n${dnsTable(r.dns)}` : 'Not in these results (run `make bench`, or `make bench BENCH_FLAGS=--dns-only`).\n'}
## Idle

${idleTable(idle)}
${emulatedSection(emulated)}
## How to run

${howToRun(r)}`;
}

const RESULTS_MD = join(ROOT, 'bench/RESULTS.md');

export function writeReport(r: Results, idle: IdleResults | undefined, fwd: ForwardResults | undefined, emulated: EmulatedResults | undefined): void {
  writeFileSync(RESULTS_MD, markdown(r, idle, fwd, emulated));
  writeFileSync(join(ROOT, 'bench/chart.svg'), chart(r));
}

/** Replaces (or adds, before "How to run") the emulated section of the RESULTS.md in place. */
export function writeEmulatedSection(e: EmulatedResults): void {
  const md = readFileSync(RESULTS_MD, 'utf8');
  const at = md.includes(EMULATED_HEADING) ? md.indexOf(EMULATED_HEADING) : md.indexOf('## How to run');
  const end = md.indexOf('\n## ', at + 1) + 1;
  writeFileSync(RESULTS_MD, md.slice(0, at) + emulatedSection(e) + '\n' + md.slice(md.includes(EMULATED_HEADING) ? end : at));
}
