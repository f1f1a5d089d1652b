import { median } from './common';
import { mib, ms } from './format';
import { bootRow, smallestBase, type Results, type StartupRow, type Variant } from './results';
import { targetsWhy } from './targets';

// "What bounds it": the measured facts behind the targets table. guestnet's
// start-up is `guestnet apply` with no links, run with the same arguments as
// the boot and per-event runs (for the presets, the fast path without
// yargs), held against the runtime floor: an empty program built the same way.

const startupRow = (r: Results, label: string): StartupRow | undefined => r.startup.find((x) => x.label.startsWith(label));

function startupLines(r: Results, start: StartupRow): string[] {
  const [version, derive, empty] = [startupRow(r, 'guestnet --version'), startupRow(r, 'guestnet derive'), startupRow(r, 'runtime floor')];
  const [ip, bb] = [startupRow(r, 'ip -batch'), startupRow(r, 'busybox sh')];
  const startMs = median(start.ms);
  const runtime = empty ? ` An empty program built the same way takes ${ms(median(empty.ms))} ms (peak RSS ${mib(empty.rssKiB)} MiB): the bun runtime alone.` : '';
  const lines = [
    `- Start-up alone: \`guestnet apply\` with no inter-guest links takes ${ms(startMs)} ms (peak RSS ${mib(start.rssKiB)} MiB), ` +
      `before any kernel work. That is the floor under every boot-apply and per-event hotplug number of guestnet here.${runtime}`,
  ];
  if (version && derive) {
    lines.push(
      `- \`guestnet --version\` and \`guestnet derive MAC\` skip yargs as \`apply\` does: ` +
        `${ms(median(version.ms))} ms (peak RSS ${mib(version.rssKiB)} MiB) and ${ms(median(derive.ms))} ms.`,
    );
  }
  if (ip && bb) lines.push(`- For comparison, an empty \`ip -batch\` takes ${ms(median(ip.ms))} ms and \`busybox sh -c :\` ${ms(median(bb.ms))} ms.`);
  return lines;
}

/** Cost of one more link, from the two largest sizes. */
function slopeLines(r: Results, guestnet: readonly Variant[]): string[] {
  const live = guestnet.filter((x) => x.available);
  const [lo, hi] = [r.config.sizes[r.config.sizes.length - 2], r.config.sizes[r.config.sizes.length - 1]];
  const slope = (key: string) => {
    const a = lo === undefined ? undefined : bootRow(r, lo, key);
    const b = bootRow(r, hi, key);
    return a && b ? (median(b.ms) - median(a.ms)) / (hi - lo) : NaN;
  };
  if (live.length === 0 || !Number.isFinite(slope(`guestnet:${live[0].label}`))) return [];
  return [
    `- Cost of one more link (N=${lo} to ${hi}): ${live.map((x) => `guestnet ${x.label} ${ms(slope(`guestnet:${x.label}`))} ms`).join(', ')}, ` +
      `floor ${ms(slope('floor'))} ms${Number.isFinite(slope('reference')) ? `, reference ${ms(slope('reference'))} ms` : ''}.`,
  ];
}

/** Per N: guestnet's time, the share start-up takes of it, and the baselines. */
function sizeLines(r: Results, v: Variant, start: StartupRow): string[] {
  return r.config.sizes.flatMap((n) => {
    const g = bootRow(r, n, `guestnet:${v.label}`);
    const ref = bootRow(r, n, 'reference');
    const floor = bootRow(r, n, 'floor');
    if (!g || !ref || !floor) return [];
    // Medians of separate runs: at N=1 start-up can come out above the whole run.
    const share = Math.min(100, (100 * median(start.ms)) / median(g.ms));
    return [
      `- N=${n}: guestnet ${v.label} ${ms(median(g.ms))} ms, of which start-up is ${share.toFixed(0)}%; ` +
        `the reference ${ms(median(ref.ms))} ms (${ms(median(ref.ms) / n)} ms a link); the floor ${ms(median(floor.ms))} ms.`,
    ];
  });
}

function hotplugLines(r: Results, v: Variant): string[] {
  const lane = (key: string) => smallestBase(r).lanes.find((l) => l.key === key && l.ok && l.ms.length > 0);
  const [hRef, hFloor, hApply, hWatch] = ['reference', 'floor', `apply:${v.label}`, `watch:${v.label}`].map(lane);
  if (!hRef || !hFloor || !hApply) return [];
  return [
    `- Hotplug: a per-event \`guestnet apply IFACE\` (${v.label}) takes ${ms(median(hApply.ms))} ms, start-up included; ` +
      (hWatch ? `\`guestnet watch\` (${v.label}), already running, ${ms(median(hWatch.ms))} ms; ` : '') +
      `the reference ${ms(median(hRef.ms))} ms and the floor ${ms(median(hFloor.ms))} ms, one exec each.`,
  ];
}

export function bounds(r: Results, guestnet: readonly Variant[]): string {
  const v = guestnet.find((x) => x.available);
  // The start-up row runs the first available variant, so it speaks for `v`.
  const start = startupRow(r, 'guestnet apply');
  const lines = [
    ...(start ? startupLines(r, start) : []),
    ...slopeLines(r, guestnet),
    ...(v && start ? sizeLines(r, v, start) : []),
    ...(v ? hotplugLines(r, v) : []),
    ...(v && start ? targetsWhy(r, guestnet, v, start) : []),
  ];
  return lines.join('\n') + '\n';
}
