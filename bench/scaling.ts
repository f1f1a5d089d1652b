import { median } from './common';
import { mib, ms, na, ratio, table } from './format';
import { bootRow, type Results, type StartupRow, type Variant } from './results';

// Growth with N and the targets for many links and for start-up: each
// figure on one row against N (boot: links to configure; hotplug: links
// already configured), and whether it grows with N.

/** A figure that more than doubles from the smallest N (8 and up) to the largest grows with N. */
const GROWS = 2;
const HOTPLUG_BUDGET_MS = 3;
const FLOOR_BUDGET = 2;
const START_BUDGET_MS = 1.5;
const RSS_BUDGET_MIB = 40;
const COMMAND_BUDGET_MS = 8;

interface Figure {
  readonly label: string;
  readonly at: ReadonlyMap<number, number>;
  readonly show: (v: number) => string;
}

const live = (vs: readonly Variant[]) => vs.filter((v) => v.available);

function bootFigures(r: Results): Figure[] {
  const per = (key: string, value: (n: number) => number | undefined) =>
    new Map(r.config.sizes.flatMap((n) => { const v = bootRow(r, n, key) && value(n); return v === undefined ? [] : [[n, v] as const]; }));
  const time = (key: string) => per(key, (n) => median(bootRow(r, n, key)!.ms));
  const floor = time('floor');
  return [
    { label: 'boot apply, floor (one `ip -batch`)', at: floor, show: (v) => `${ms(v)} ms` },
    ...live(r.variants).flatMap((v): Figure[] => {
      const key = `guestnet:${v.label}`;
      return [
        { label: `boot apply, guestnet ${v.label}`, at: time(key), show: (x) => `${ms(x)} ms` },
        { label: `boot apply ÷ floor, guestnet ${v.label}`, at: per(key, (n) => floor.has(n) ? median(bootRow(r, n, key)!.ms) / floor.get(n)! : undefined), show: ratio },
        { label: `peak RSS of apply, guestnet ${v.label}`, at: per(key, (n) => bootRow(r, n, key)!.rssKiB), show: (x) => `${mib(x)} MiB` },
      ];
    }),
  ];
}

function hotplugFigures(r: Results): Figure[] {
  const keys = [...new Set(r.hotplug.flatMap((h) => h.lanes.map((l) => l.key)))];
  return keys.map((key) => {
    const at = new Map(r.hotplug.flatMap((h) => {
      const lane = h.lanes.find((l) => l.key === key && l.ok && l.ms.length > 0);
      return lane ? [[h.base, median(lane.ms)] as const] : [];
    }));
    const label = r.hotplug.flatMap((h) => h.lanes).find((l) => l.key === key)!.label;
    return { label: `hotplug, ${label}`, at, show: (v: number) => `${ms(v)} ms` };
  });
}

/** The watches' resident memory with N links configured. */
function watchRssFigures(r: Results): Figure[] {
  return live(r.variants).map((v) => ({
    label: `VmRSS of \`guestnet watch\` (${v.label})`,
    at: new Map(r.hotplug.flatMap((h) => {
      const kib = h.lanes.find((l) => l.key === `watch:${v.label}`)?.rssKiB;
      return kib ? [[h.base, kib] as const] : [];
    })),
    show: (x: number) => `${mib(x)} MiB`,
  }));
}

function grows(f: Figure): string {
  const ns = [...f.at.keys()].filter((n) => n >= 8).sort((a, b) => a - b);
  if (ns.length < 2) return '';
  const [lo, hi] = [ns[0], ns[ns.length - 1]];
  const k = f.at.get(hi)! / f.at.get(lo)!;
  return `${k >= GROWS ? '**yes**' : 'no'}: ${ratio(k)} from N=${lo} to ${hi}`;
}

/** Every figure against N, with whether it grows. */
export function scalingTable(r: Results): string {
  const ns = [...new Set([...r.config.sizes, ...r.hotplug.map((h) => h.base)])].sort((a, b) => a - b);
  const rows = [...bootFigures(r), ...hotplugFigures(r), ...watchRssFigures(r)]
    .filter((f) => f.at.size > 0)
    .map((f) => [f.label, ...ns.map((n) => (f.at.has(n) ? f.show(f.at.get(n)!) : '')), grows(f)]);
  return table(['figure', ...ns.map((n) => `N=${n}`), 'grows with N?'], rows);
}

const verdict = (ok: boolean, text: string): string => `${text} — **${ok ? 'met' : 'missed'}**`;

/** " (kernel floor: X ms)": the same event's kernel work without exec, which no program can go below. */
function kernelFloor(r: Results, base: number): string {
  const lane = r.hotplug.find((h) => h.base === base)?.lanes.find((l) => l.key === 'floor-stream' && l.ok && l.ms.length > 0);
  return lane ? ` (kernel floor: ${ms(median(lane.ms))} ms)` : '';
}

/** Per variant: hotplug with thousands of links configured, boot apply against the floor. */
export function manyLinksTargets(r: Results): string {
  const big = [1024, 4096];
  const vs = live(r.variants);
  const rows = [
    ...big.map((base) => [`hotplug with \`guestnet watch\`, ${base} links configured: median ≤ ${HOTPLUG_BUDGET_MS} ms${kernelFloor(r, base)}`, ...vs.map((v) => {
      const lane = r.hotplug.find((h) => h.base === base)?.lanes.find((l) => l.key === `watch:${v.label}` && l.ok && l.ms.length > 0);
      return lane ? verdict(median(lane.ms) <= HOTPLUG_BUDGET_MS, `${ms(median(lane.ms))} ms`) : na('not run');
    })]),
    [`VmRSS of \`guestnet watch\`, 1024 links configured ≤ ${RSS_BUDGET_MIB} MiB`, ...vs.map((v) => {
      const kib = r.hotplug.find((h) => h.base === 1024)?.lanes.find((l) => l.key === `watch:${v.label}`)?.rssKiB;
      return kib ? verdict(kib <= RSS_BUDGET_MIB * 1024, `${mib(kib)} MiB`) : na('not run');
    })],
    ...big.map((n) => [`boot apply N=${n} ≤ ${FLOOR_BUDGET} × floor`, ...vs.map((v) => {
      const [g, f] = [bootRow(r, n, `guestnet:${v.label}`), bootRow(r, n, 'floor')];
      return g && f ? verdict(median(g.ms) / median(f.ms) <= FLOOR_BUDGET, ratio(median(g.ms) / median(f.ms))) : na('not run');
    })]),
  ];
  return table(['target', ...vs.map((v) => `guestnet ${v.label}`)], rows);
}

/** Start-up against the runtime floor (an empty program built as guestnet is) and the 8 ms budget. */
export function startupTargets(r: Results): string {
  const row = (prefix: string): StartupRow | undefined => r.startup.find((s) => s.label.startsWith(prefix));
  const [empty, apply] = [row('runtime floor'), row('guestnet apply')];
  const rows: string[][] = [];
  if (empty && apply) {
    const over = median(apply.ms) - median(empty.ms);
    rows.push([`\`${apply.label}\` − runtime floor ≤ ${START_BUDGET_MS} ms`, verdict(over <= START_BUDGET_MS, `${ms(median(apply.ms))} − ${ms(median(empty.ms))} = ${ms(over)} ms`)]);
  }
  for (const s of ['guestnet --version', 'guestnet derive', 'guestnet status'].map(row)) {
    if (s) rows.push([`\`${s.label}\` ≤ ${COMMAND_BUDGET_MS} ms`, verdict(median(s.ms) <= COMMAND_BUDGET_MS, `${ms(median(s.ms))} ms`)]);
  }
  return table(['target', 'measured (median)'], rows);
}
