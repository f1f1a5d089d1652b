import { median } from './common';
import { bootRow, type Results } from './results';

// bench/chart.svg: log-log chart of median time against N: boot apply of N
// links, one line per program; hotplug with `guestnet watch` and N links
// already configured; and a dashed line at guestnet's start-up (`guestnet
// apply` with no links), the floor under its boot curves. Hand-written SVG,
// so the report needs no plotting library.

const COLORS = ['#444444', '#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#bcbd22'];
const W = 640, H = 400, L = 64, R = 190, T = 36, B = 48;

interface Series {
  readonly label: string;
  /** Drawn dotted: hotplug, whose N is links already there, not links configured. */
  readonly dotted?: boolean;
  readonly points: (readonly [number, number])[];
}

/** Data to screen coordinates: log2 of N across, log10 of milliseconds up. */
interface Axes {
  readonly x: (n: number) => number;
  readonly y: (v: number) => number;
  readonly yLo: number;
  readonly yHi: number;
}

function seriesOf(r: Results): Series[] {
  const keys = [...new Set(r.boot.map((b) => b.key))];
  return keys
    .map((key) => ({
      label: r.boot.find((b) => b.key === key)!.label,
      points: r.config.sizes.flatMap((n) => {
        const b = bootRow(r, n, key);
        return b ? [[n, median(b.ms)] as const] : [];
      }),
    }))
    .filter((s) => s.points.length > 0);
}

/** `guestnet watch` hotplug latency against the links already configured, one line per variant. */
function hotplugSeries(r: Results): Series[] {
  const keys = [...new Set(r.hotplug.flatMap((h) => h.lanes.filter((l) => l.key.startsWith('watch:')).map((l) => l.key)))];
  return keys
    .map((key) => ({
      label: `hotplug, watch ${key.slice(6)}`,
      dotted: true,
      points: r.hotplug.flatMap((h) => {
        const l = h.lanes.find((x) => x.key === key && x.ok && x.ms.length > 0);
        return l ? [[h.base, median(l.ms)] as const] : [];
      }),
    }))
    .filter((s) => s.points.length > 0);
}

function axes(sizes: readonly number[], values: readonly number[]): Axes {
  const yLo = Math.floor(Math.log10(Math.min(...values)));
  const yHi = Math.ceil(Math.log10(Math.max(...values)));
  const xLo = Math.log2(Math.min(...sizes));
  const xHi = Math.max(Math.log2(Math.max(...sizes)), xLo + 1);
  return {
    x: (n) => L + ((Math.log2(n) - xLo) / (xHi - xLo)) * (W - L - R),
    y: (v) => T + ((yHi - Math.log10(v)) / (yHi - yLo)) * (H - T - B),
    yLo,
    yHi,
  };
}

/** Grid lines at 1, 2 and 5 of each decade (labelled at 1, or at all three over two decades or less), and at each N. */
function grid(a: Axes, sizes: readonly number[]): string[] {
  const out: string[] = [];
  for (let e = a.yLo; e <= a.yHi; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) > a.yHi + 1e-9) continue;
      out.push(`<line x1="${L}" x2="${W - R}" y1="${a.y(v).toFixed(1)}" y2="${a.y(v).toFixed(1)}" stroke="${m === 1 ? '#bbb' : '#eee'}"/>`);
      if (m === 1 || a.yHi - a.yLo <= 2) out.push(`<text x="${L - 6}" y="${(a.y(v) + 4).toFixed(1)}" text-anchor="end">${v >= 1 ? v : v.toPrecision(1)}</text>`);
    }
  }
  for (const n of sizes) {
    out.push(`<line x1="${a.x(n).toFixed(1)}" x2="${a.x(n).toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#eee"/>`);
    out.push(`<text x="${a.x(n).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${n}</text>`);
  }
  out.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">N inter-guest links (log scale)</text>`);
  out.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">milliseconds (log scale)</text>`);
  return out;
}

/** The i-th program's line and dots, and its entry in the legend. */
function line(a: Axes, s: Series, i: number): string[] {
  const color = COLORS[i % COLORS.length];
  const pts = s.points.map(([n, v]) => [a.x(n).toFixed(1), a.y(v).toFixed(1)] as const);
  const ly = T + 10 + i * 20;
  const dash = s.dotted ? ' stroke-dasharray="2 3"' : '';
  return [
    `<polyline points="${pts.map(([px, py]) => `${px},${py}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`,
    ...pts.map(([px, py]) => `<circle cx="${px}" cy="${py}" r="3" fill="${color}"/>`),
    `<line x1="${W - R + 12}" x2="${W - R + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
    `<text x="${W - R + 38}" y="${ly + 4}">${s.label.replace(/ \(.*\)$/, '').replace(/&/g, '&amp;')}</text>`,
  ];
}

/** The dashed start-up line, below the legend's `slot` programs. */
function startupLine(a: Axes, startMs: number, slot: number): string[] {
  const vy = a.y(startMs).toFixed(1);
  const ly = T + 10 + slot * 20;
  return [
    `<line x1="${L}" x2="${W - R}" y1="${vy}" y2="${vy}" stroke="#999" stroke-dasharray="5 4"/>`,
    `<line x1="${W - R + 12}" x2="${W - R + 32}" y1="${ly}" y2="${ly}" stroke="#999" stroke-dasharray="5 4"/>`,
    `<text x="${W - R + 38}" y="${ly + 4}">apply, no links</text>`,
  ];
}

export function chart(r: Results): string {
  const series = [...seriesOf(r), ...hotplugSeries(r)];
  const ns = [...new Set([...r.config.sizes, ...r.hotplug.map((h) => h.base)])].sort((x, y) => x - y);
  const start = r.startup.find((s) => s.label.startsWith('guestnet apply'));
  const startMs = start ? median(start.ms) : undefined;
  const values = series.flatMap((s) => s.points.map((p) => p[1])).concat(startMs === undefined ? [] : [startMs]);
  const a = axes(ns, values);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="20" font-size="14" font-weight="bold">median ms: boot apply of N links; hotplug with N links configured</text>`,
    ...grid(a, ns),
    ...series.flatMap((s, i) => line(a, s, i)),
    ...(startMs === undefined ? [] : startupLine(a, startMs, series.length)),
    '</svg>',
  ].join('\n') + '\n';
}
