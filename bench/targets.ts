import { median } from './common';
import { mib, ms, na, ratio, table } from './format';
import { bootRow, smallestBase, type HotplugLane, type Results, type Variant } from './results';

// The targets: the table of met or missed per guestnet variant, and for
// "What bounds it" the reason, held against guestnet's own start-up time.

const RSS_BUDGET_KIB = 40 * 1024;
const WATCH_BUDGET_MS = 5;

const cell = (ok: boolean, text: string): string => `${text} — **${ok ? 'met' : 'missed'}**`;

/** The medians the boot targets are relative to, where they were measured. */
function baselines(r: Results): { ref1?: number; ref64?: number; floor64?: number } {
  const med = (key: string, n: number) => {
    const row = bootRow(r, n, key);
    return row && median(row.ms);
  };
  return { ref1: med('reference', 1), ref64: med('reference', 64), floor64: med('floor', 64) };
}

/** The boot targets as absolute budgets in ms. */
function budgets(r: Results): { n1?: number; n64ref?: number; n64floor?: number } {
  const { ref1, ref64, floor64 } = baselines(r);
  return { n1: ref1, n64ref: ref64 && ref64 / 10, n64floor: floor64 && 3 * floor64 };
}

const watchLane = (r: Results, v: Variant): HotplugLane | undefined => smallestBase(r).lanes.find((l) => l.key === `watch:${v.label}`);

/** Peak RSS of `guestnet apply` at each N where it ran. */
function rssByN(r: Results, v: Variant): { n: number; kib: number }[] {
  return r.boot.flatMap((b) => (b.key === `guestnet:${v.label}` && b.ok && b.rssKiB !== undefined ? [{ n: b.n, kib: b.rssKiB }] : []));
}

/** One variant's column, in the order of the table's rows. */
function variantCells(r: Results, v: Variant): string[] {
  const key = `guestnet:${v.label}`;
  const [g1, g64] = [bootRow(r, 1, key), bootRow(r, 64, key)];
  const { ref1, ref64, floor64 } = baselines(r);
  const w = watchLane(r, v);
  const rss = rssByN(r, v).map((x) => x.kib);
  const q1 = g1 && ref1 !== undefined ? median(g1.ms) / ref1 : NaN;
  const s64 = g64 && ref64 !== undefined ? ref64 / median(g64.ms) : NaN;
  const f64 = g64 && floor64 !== undefined ? median(g64.ms) / floor64 : NaN;
  return [
    Number.isFinite(q1) ? cell(q1 <= 1, `${ms(median(g1!.ms))} ms = ${ratio(q1)}`) : na(v.reason),
    Number.isFinite(s64) ? cell(s64 >= 10, `${ms(median(g64!.ms))} ms = ${ratio(s64)} faster`) : na(v.reason),
    Number.isFinite(f64) ? cell(f64 <= 3, `${ratio(f64)}`) : na(v.reason),
    w?.ok && w.ms.length > 0 ? cell(median(w.ms) <= WATCH_BUDGET_MS, `${ms(median(w.ms))} ms`) : na(w?.reason ?? smallestBase(r).watch.reason),
    rss.length > 0 ? cell(Math.max(...rss) <= RSS_BUDGET_KIB, `${mib(Math.max(...rss))} MiB`) : na(v.reason),
  ];
}

export function targets(r: Results, guestnet: readonly Variant[]): string {
  const b = budgets(r);
  const need = (v: number | undefined) => (v === undefined ? '' : `≤ ${ms(v)} ms`);
  // Each target as an absolute budget too, to hold against the start-up time.
  const rows: string[][] = [
    ['N=1 boot apply ≤ 1.0 × reference', need(b.n1)],
    ['N=64 boot apply ≥ 10× faster than reference', need(b.n64ref)],
    ['N=64 boot apply ≤ 3 × floor', need(b.n64floor)],
    ['hotplug with `guestnet watch`: median ≤ 5 ms', '≤ 5 ms'],
    ['peak RSS of apply ≤ 40 MiB (max over N)', '≤ 40 MiB'],
  ];
  for (const v of guestnet) variantCells(r, v).forEach((c, i) => rows[i].push(c));
  return table(['target', 'budget', ...guestnet.map((v) => `guestnet ${v.label}`)], rows);
}

// ---- why: each target against the start-up time ------------------------------

/** A boot target met, or missed: by start-up alone, or by the work after it. */
function bootWhy(target: string, budget: number | undefined, row: { ms: number[] } | undefined, startMs: number): string[] {
  if (budget === undefined || row === undefined) return [];
  const total = median(row.ms);
  if (total <= budget) return [`  - ${target}: met, ${ms(total)} ms within ${ms(budget)} ms.`];
  if (startMs >= budget) {
    return [`  - ${target}: missed; start-up alone (${ms(startMs)} ms) is over the ${ms(budget)} ms budget, so no saving after start-up can meet it.`];
  }
  return [
    `  - ${target}: missed by ${ms(total - budget)} ms; after start-up (${ms(startMs)} ms) the budget leaves ${ms(budget - startMs)} ms ` +
      `for everything else, which takes ${ms(total - startMs)} ms.`,
  ];
}

function watchWhy(r: Results, guestnet: readonly Variant[]): string[] {
  const timed = guestnet.flatMap((v) => {
    const w = watchLane(r, v);
    return w?.ok && w.ms.length > 0 ? [{ v, ms: median(w.ms) }] : [];
  });
  if (timed.length === 0) return [];
  const list = (xs: typeof timed) => xs.map((x) => `${x.v.label} (${ms(x.ms)} ms)`).join(', ');
  const met = timed.filter((x) => x.ms <= WATCH_BUDGET_MS);
  const missed = timed.filter((x) => x.ms > WATCH_BUDGET_MS);
  // The ip backend's reads and writes are `ip` processes, each a start-up of its own.
  const viaIp = missed.filter((x) => x.v.args.join(' ').includes('--backend ip')).map((x) => x.v.label);
  return [
    `  - \`guestnet watch\` ≤ ${WATCH_BUDGET_MS} ms (already running, so no start-up): ` +
      [met.length ? `met with ${list(met)}` : '', missed.length ? `missed with ${list(missed)}` : ''].filter(Boolean).join('; ') +
      (viaIp.length ? `; with \`--backend ip\` (${viaIp.join(', ')}) it runs \`ip\` processes to read and change the kernel state.` : '.'),
  ];
}

function rssWhy(r: Results, v: Variant, startKiB: number): string[] {
  const rows = rssByN(r, v);
  if (rows.length === 0) return [];
  const over = rows.filter((x) => x.kib > RSS_BUDGET_KIB).map((x) => `N=${x.n}`);
  const perN = rows.map((x) => `${mib(x.kib)} MiB at N=${x.n}`).join(', ');
  const verdict =
    startKiB > RSS_BUDGET_KIB ? 'missed before any link: start-up alone is over the budget'
    : over.length ? `missed at ${over.join(', ')}: start-up fits, the work for the links takes it over`
    : 'met at every N';
  return [`  - Peak RSS ≤ 40 MiB: ${verdict}. \`guestnet apply\` with no links peaks at ${mib(startKiB)} MiB; with links ${perN}.`];
}

/** Sub-items for "What bounds it": each target for `v`, against its start-up time and memory. */
export function targetsWhy(r: Results, guestnet: readonly Variant[], v: Variant, start: { ms: number[]; rssKiB: number }): string[] {
  const b = budgets(r);
  const key = `guestnet:${v.label}`;
  const startMs = median(start.ms);
  return [
    `- Targets, guestnet ${v.label} against its start-up (\`guestnet apply\` with no links, ${ms(startMs)} ms):`,
    ...bootWhy('N=1 ≤ 1.0 × reference', b.n1, bootRow(r, 1, key), startMs),
    ...bootWhy('N=64 ≥ 10× faster than reference', b.n64ref, bootRow(r, 64, key), startMs),
    ...bootWhy('N=64 ≤ 3 × floor', b.n64floor, bootRow(r, 64, key), startMs),
    ...watchWhy(r, guestnet),
    ...rssWhy(r, v, start.rssKiB),
  ];
}
