import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, percentile, ROOT } from './common';

// Results (bench/results/*.json) -> bench/RESULTS.md and bench/chart.svg.
// Every number printed here is measured; the targets are compared, not asserted.

export interface Variant {
  readonly label: string;
  readonly bin: string;
  readonly args: readonly string[];
  available: boolean;
  reason?: string;
}

export interface StartupRow {
  readonly label: string;
  readonly cmd: string;
  readonly ms: number[];
  rssKiB: number;
}

export interface BootRow {
  readonly n: number;
  readonly key: string;
  readonly label: string;
  readonly kind: 'floor' | 'reference' | 'guestnet';
  readonly ms: number[];
  ok: boolean;
  reason?: string;
  errors: number;
  rssKiB?: number;
  readonly cpuMs: number[];
}

export interface HotplugLane {
  readonly key: string;
  readonly label: string;
  readonly how: string;
  readonly ms: number[];
  failures: number;
  ok: boolean;
  reason?: string;
}

export interface Results {
  date: string;
  durationS: number;
  machine: { nproc: number; cpu: string; kernel: string; memGiB: number; background: { beforePct: number; duringPct: number }; guestnet: string; commit: string; bun: string; iproute2: string; busybox: string };
  config: { sizes: number[]; events: number; hotplugBase: number; quick: boolean };
  variants: Variant[];
  startup: StartupRow[];
  boot: BootRow[];
  hotplug: { base: number; events: number; watch: { available: boolean; reason?: string }; lanes: HotplugLane[] };
}

export interface IdleResults {
  date: string;
  build?: string;
  seconds: number;
  links: number;
  rows: {
    label: string;
    ok: boolean;
    reason?: string;
    wallS?: number;
    cpuS?: number;
    cpuPct?: number;
    wakeupsPerS?: number;
    rssKiB?: number;
    hwmKiB?: number;
    threads?: number;
    note?: string;
  }[];
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const mib = (kib: number | undefined): string => (kib === undefined ? '' : (kib / 1024).toFixed(1));
const ratio = (v: number): string => (Number.isFinite(v) ? `${v >= 9.995 ? v.toFixed(0) : v.toFixed(2)}×` : '');
const na = (reason?: string): string => `n/a${reason ? ` (${reason.replace(/\|/g, '\\|')})` : ''}`;
const table = (head: string[], rows: string[][]): string =>
  [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';

function bootRow(r: Results, n: number, key: string): BootRow | undefined {
  const row = r.boot.find((b) => b.n === n && b.key === key);
  return row?.ok && row.ms.length > 0 ? row : undefined;
}

function targets(r: Results, guestnet: Variant[]): string {
  const lane = (key: string) => r.hotplug.lanes.find((l) => l.key === key);
  const cell = (ok: boolean, text: string) => `${text} — **${ok ? 'met' : 'missed'}**`;
  const ref1 = bootRow(r, 1, 'reference');
  const ref64 = bootRow(r, 64, 'reference');
  const floor64 = bootRow(r, 64, 'floor');
  const need = (v: number | undefined) => (v === undefined ? '' : `≤ ${ms(v)} ms`);
  // Each target as an absolute budget too, to hold against the start-up time below.
  const rows: string[][] = [
    ['N=1 boot apply ≤ 1.0 × reference', need(ref1 && median(ref1.ms))],
    ['N=64 boot apply ≥ 10× faster than reference', need(ref64 && median(ref64.ms) / 10)],
    ['N=64 boot apply ≤ 3 × floor', need(floor64 && 3 * median(floor64.ms))],
    ['hotplug with `guestnet watch`: median ≤ 5 ms', '≤ 5 ms'],
    ['peak RSS of apply ≤ 40 MiB (max over N)', '≤ 40 MiB'],
  ];
  for (const v of guestnet) {
    const key = `guestnet:${v.label}`;
    const g1 = bootRow(r, 1, key);
    const g64 = bootRow(r, 64, key);
    const w = lane(`watch:${v.label}`);
    const rss = r.boot.filter((b) => b.key === key && b.ok && b.rssKiB !== undefined).map((b) => b.rssKiB!);
    const q1 = g1 && ref1 ? median(g1.ms) / median(ref1.ms) : NaN;
    const s64 = g64 && ref64 ? median(ref64.ms) / median(g64.ms) : NaN;
    const f64 = g64 && floor64 ? median(g64.ms) / median(floor64.ms) : NaN;
    rows[0].push(Number.isFinite(q1) ? cell(q1 <= 1, `${ms(median(g1!.ms))} ms = ${ratio(q1)}`) : na(v.reason));
    rows[1].push(Number.isFinite(s64) ? cell(s64 >= 10, `${ms(median(g64!.ms))} ms = ${ratio(s64)} faster`) : na(v.reason));
    rows[2].push(Number.isFinite(f64) ? cell(f64 <= 3, `${ratio(f64)}`) : na(v.reason));
    rows[3].push(w?.ok && w.ms.length > 0 ? cell(median(w.ms) <= 5, `${ms(median(w.ms))} ms`) : na(w?.reason ?? r.hotplug.watch.reason));
    rows[4].push(rss.length > 0 ? cell(Math.max(...rss) <= 40 * 1024, `${mib(Math.max(...rss))} MiB`) : na(v.reason));
  }
  return table(['target', 'budget', ...guestnet.map((v) => `guestnet ${v.label}`)], rows);
}

function bounds(r: Results, guestnet: Variant[]): string {
  const s = (label: string) => r.startup.find((x) => x.label.startsWith(label));
  const version = s('guestnet --version');
  const derive = s('guestnet derive');
  const empty = s('guestnet apply');
  const lines: string[] = [];
  if (version && derive && empty) {
    lines.push(
      `- Start-up alone: \`guestnet --version\` takes ${ms(median(version.ms))} ms (peak RSS ${mib(version.rssKiB)} MiB), ` +
        `\`guestnet derive MAC\` ${ms(median(derive.ms))} ms, \`${empty.label.replace(/ \(.*/, '')}\` with no inter-guest links ${ms(median(empty.ms))} ms ` +
        `(RSS ${mib(empty.rssKiB)} MiB). That is the floor under every guestnet number here: the bun runtime loading and starting up, before any kernel work.`,
    );
  }
  const ip = s('ip -batch');
  const bb = s('busybox sh');
  if (ip && bb) lines.push(`- For comparison, an empty \`ip -batch\` takes ${ms(median(ip.ms))} ms and \`busybox sh -c :\` ${ms(median(bb.ms))} ms.`);
  if (version && version.rssKiB > 40 * 1024) {
    lines.push(`- Memory: \`guestnet --version\` already peaks at ${mib(version.rssKiB)} MiB, above the 40 MiB budget before any work is done.`);
  }
  const v = guestnet.find((x) => x.available);
  const [lo, hi] = [r.config.sizes[r.config.sizes.length - 2], r.config.sizes[r.config.sizes.length - 1]];
  const slope = (key: string) => {
    const a = lo === undefined ? undefined : bootRow(r, lo, key);
    const b = bootRow(r, hi, key);
    return a && b ? (median(b.ms) - median(a.ms)) / (hi - lo) : NaN;
  };
  if (v && Number.isFinite(slope(`guestnet:${v.label}`))) {
    lines.push(
      `- Cost of one more link (N=${lo} to ${hi}): ${guestnet.filter((x) => x.available).map((x) => `guestnet ${x.label} ${ms(slope(`guestnet:${x.label}`))} ms`).join(', ')}, ` +
        `floor ${ms(slope('floor'))} ms, reference ${ms(slope('reference'))} ms.`,
    );
  }
  if (v && version) {
    for (const n of r.config.sizes) {
      const g = bootRow(r, n, `guestnet:${v.label}`);
      const ref = bootRow(r, n, 'reference');
      const floor = bootRow(r, n, 'floor');
      if (!g || !ref || !floor) continue;
      const share = (100 * median(version.ms)) / median(g.ms);
      lines.push(
        `- N=${n}: guestnet ${v.label} ${ms(median(g.ms))} ms, of which start-up (\`--version\`) is ${share.toFixed(0)}%; ` +
          `the reference ${ms(median(ref.ms))} ms (${ms(median(ref.ms) / n)} ms a link); the floor ${ms(median(floor.ms))} ms.`,
      );
    }
  }
  const lane = (key: string) => r.hotplug.lanes.find((l) => l.key === key && l.ok && l.ms.length > 0);
  const [hRef, hFloor, hApply, hWatch] = ['reference', 'floor', `apply:${v?.label}`, `watch:${v?.label}`].map(lane);
  if (v && hRef && hFloor && hApply) {
    lines.push(
      `- Hotplug: a per-event \`guestnet apply IFACE\` (${v.label}) takes ${ms(median(hApply.ms))} ms, start-up included; ` +
        (hWatch ? `\`guestnet watch\` (${v.label}), already running, ${ms(median(hWatch.ms))} ms; ` : '') +
        `the reference ${ms(median(hRef.ms))} ms and the floor ${ms(median(hFloor.ms))} ms, one exec each.`,
    );
  }
  return lines.join('\n') + '\n';
}

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

function hotplugTable(r: Results): string {
  const ref = r.hotplug.lanes.find((l) => l.key === 'reference');
  const floor = r.hotplug.lanes.find((l) => l.key === 'floor');
  const refM = ref?.ok ? median(ref.ms) : NaN;
  const floorM = floor?.ok ? median(floor.ms) : NaN;
  const rows = r.hotplug.lanes.map((l) => {
    if (!l.ok || l.ms.length === 0) return [l.label, l.how, na(l.reason), '', '', '', ''];
    const m = median(l.ms);
    return [l.label, l.how, ms(m), ms(percentile(l.ms, 99)), ratio(m / refM), ratio(m / floorM), `${l.ms.length}${l.failures ? ` + ${l.failures} failed` : ''}`];
  });
  return table(['program', 'how', 'median ms', 'p99 ms', '÷ reference', '÷ floor', 'events'], rows);
}

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

/** Above this share of "CPU outside the benchmark" during a run, the report warns of noise. */
const NOISY_PCT = 15;

const COLORS = ['#444444', '#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** Log-log chart of boot-apply median time against N, one line per program, hand-written SVG. */
export function chart(r: Results): string {
  const W = 640, H = 400, L = 64, R = 190, T = 36, B = 48;
  const sizes = r.config.sizes;
  const keys = [...new Set(r.boot.map((b) => b.key))];
  const series = keys
    .map((key) => ({
      label: r.boot.find((b) => b.key === key)!.label,
      points: sizes.flatMap((n) => {
        const b = bootRow(r, n, key);
        return b ? [[n, median(b.ms)] as const] : [];
      }),
    }))
    .filter((s) => s.points.length > 0);
  const version = r.startup.find((s) => s.label === 'guestnet --version');
  const all = series.flatMap((s) => s.points.map((p) => p[1])).concat(version ? [median(version.ms)] : []);
  const yLo = Math.floor(Math.log10(Math.min(...all)));
  const yHi = Math.ceil(Math.log10(Math.max(...all)));
  const xLo = Math.log2(Math.min(...sizes));
  const xHi = Math.max(Math.log2(Math.max(...sizes)), xLo + 1);
  const x = (n: number) => L + ((Math.log2(n) - xLo) / (xHi - xLo)) * (W - L - R);
  const y = (v: number) => T + ((yHi - Math.log10(v)) / (yHi - yLo)) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="20" font-size="14" font-weight="bold">boot apply: wall time from exec to all N links configured (median)</text>`,
  ];
  for (let e = yLo; e <= yHi; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) > yHi + 1e-9) continue;
      out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${m === 1 ? '#bbb' : '#eee'}"/>`);
      if (m === 1 || yHi - yLo <= 2) out.push(`<text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v >= 1 ? v : v.toPrecision(1)}</text>`);
    }
  }
  for (const n of sizes) {
    out.push(`<line x1="${x(n).toFixed(1)}" x2="${x(n).toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#eee"/>`);
    out.push(`<text x="${x(n).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${n}</text>`);
  }
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">N inter-guest links (log scale)</text>`);
  out.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">milliseconds (log scale)</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.map(([n, v]) => `${x(n).toFixed(1)},${y(v).toFixed(1)}`);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${color}"/>`);
    const ly = T + 10 + i * 20;
    out.push(`<line x1="${W - R + 12}" x2="${W - R + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 38}" y="${ly + 4}">${s.label.replace(/ \(.*\)$/, '').replace(/&/g, '&amp;')}</text>`);
  });
  if (version) {
    const vy = y(median(version.ms)).toFixed(1);
    const ly = T + 10 + series.length * 20;
    out.push(`<line x1="${L}" x2="${W - R}" y1="${vy}" y2="${vy}" stroke="#999" stroke-dasharray="5 4"/>`);
    out.push(`<line x1="${W - R + 12}" x2="${W - R + 32}" y1="${ly}" y2="${ly}" stroke="#999" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${W - R + 38}" y="${ly + 4}">guestnet --version</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function markdown(r: Results, idle: IdleResults | undefined): string {
  const m = r.machine;
  const variants = r.variants;
  const sizes = r.config.sizes.join(', ');
  return `# guestnet benchmark results

Generated by \`make bench\` (\`bench/bench.ts\`) on ${r.date.slice(0, 16).replace('T', ' ')} UTC in ${r.durationS} s${r.config.quick ? ' — **quick run, few repetitions**' : ''}.

Machine: ${m.nproc} CPUs (${m.cpu}), Linux ${m.kernel}, ${m.memGiB} GiB RAM. CPU time used outside
the benchmark's processes: ${Math.max(0, m.background.beforePct).toFixed(0)}% of the machine in the 2 s before the run, ${Math.max(0, m.background.duringPct).toFixed(0)}% during it
(kernel threads included)${m.background.beforePct > 10 || m.background.duringPct > NOISY_PCT ? ' — **other work was running; expect noise**' : ''}.
Software: guestnet ${m.guestnet} (checkout ${m.commit}), bun ${m.bun}, iproute2 ${m.iproute2}, ${m.busybox}.
guestnet variants: ${variants.map((v) => `\`${v.label}\` = \`guestnet ${v.args.join(' ')}\`${v.available ? '' : ` (n/a: ${v.reason})`}`).join(', ')}.

Ratios are medians divided by medians: *÷ reference* below 1 means guestnet is faster than
Spectrum's per-interface script, *÷ floor* is the distance from one \`ip -batch\` doing the same
kernel work. Lower is better everywhere.

![boot apply time against N](chart.svg)

## Targets

${targets(r, variants)}
## What bounds it

${bounds(r, variants)}
## Boot apply

N = ${sizes} inter-guest links (veth, half client and half provider MACs), re-created down and
unconfigured before every run, outside the timed region. Wall time from the exec of the first
process to the exit of the last one, every program interleaved round by round. Peak RSS is the
largest single process (GNU time, one extra run), CPU the median user+system time of all processes.

${bootTable(r)}
## Startup (no inter-guest links)

${table(['command', 'median ms', 'p90 ms', 'peak RSS MiB'], r.startup.map((s) => [`\`${s.label}\``, ms(median(s.ms)), ms(percentile(s.ms, 90)), mib(s.rssKiB)]))}
## Hotplug

One link added to a namespace with ${r.hotplug.base} configured links, ${r.hotplug.events} events per
program (after warm-up), programs interleaved event by event; the link is deleted again after each
event. Latency is from the kernel's notification of the new link to the notification of its last
address or route, both time-stamped by \`ip -ts monitor\`. Per-event programs are started as
mdev would, right after the link exists.${r.hotplug.watch.available ? '' : `\n\`guestnet watch\`: n/a — ${r.hotplug.watch.reason}.`}

${hotplugTable(r)}
## Idle

${idleTable(idle)}
## How to run

- \`make bench\` — everything above except idle (needs root; about ${Math.max(1, Math.round(r.durationS / 60))} min here).
  \`make bench BENCH_FLAGS='--quick'\` tries the harness in under a minute.
- \`make bench-idle\` — \`guestnet watch\` left alone for 10 minutes (not in CI); then
  \`make bench\` or \`node_modules/.bin/bun run bench/bench.ts --report\` folds it in here.
- More guestnet columns: \`BENCH_FLAGS="--variant auto --variant netlink --variant 'mine=/path/to/guestnet --backend ip'"\`.
- Raw samples: \`bench/results/latest.json\`, \`bench/results/idle.json\` (not committed).

Method notes: every workload runs in network namespaces the harness creates and deletes; the
timed programs are started by a small timer (\`bench/runner.ts\`) that lives inside the namespace,
so \`ip netns exec\` is not part of any measurement. The reference is \`bench/reference.sh\` under
busybox sh with busybox \`ip\` and \`awk\`, one process per link, with guestnet's route metrics
so that several client links can coexist (Spectrum's scripts have none; see its header); the floor writes no
\`ip_forward\` (a file write, no process). Every program's result is checked against the expected
addresses and routes once per N before it is timed.
`;
}

export function writeReport(r: Results, idle: IdleResults | undefined): void {
  writeFileSync(join(ROOT, 'bench/RESULTS.md'), markdown(r, idle));
  writeFileSync(join(ROOT, 'bench/chart.svg'), chart(r));
}
