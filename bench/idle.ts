import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { addNamespace, clockTicks, cpuTicks, deleteNamespace, lastLine, log, RESULTS_DIR, sleep, type BenchLink } from './common';
import { verdict } from './checks';
import { built } from './machine';
import { stop } from './procs';
import type { IdleResults, IdleRow, Variant } from './results';
import { configuredNs, startWatch, watchAvailable } from './watch';

// `make bench-idle`: `guestnet watch` left alone with configured links; what
// it costs while nothing happens (CPU, wakeups, memory), read from /proc.

/** Settling time after start-up, before the first sample. */
const SETTLE_MS = 5000;

interface Sample {
  at: number;
  cpuTicks: number;
  rssKiB: number;
  hwmKiB: number;
  switches: number;
  threads: number;
}

function sample(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  // Context switches of every thread: each is a wakeup.
  let switches = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const s = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    for (const m of s.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) switches += Number(m[1]);
  }
  return { at: Date.now(), cpuTicks: cpuTicks(pid), rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM'), switches, threads: kib('Threads') };
}

interface IdleWatch {
  readonly v: Variant;
  readonly ns: string;
  readonly links: BenchLink[];
  readonly proc: Subprocess;
  readonly logFile: string;
}

/** One row from a watch's samples before (`a`) and after the idle window. */
function idleRow(s: IdleWatch, a: Sample | undefined, hz: number): IdleRow {
  if (!a || s.proc.exitCode !== null) {
    return { label: s.v.label, ok: false, reason: `watch exited (${s.proc.exitCode}): ${lastLine(readFileSync(s.logFile, 'utf8'))}` };
  }
  const b = sample(s.proc.pid);
  const wrong = verdict([0], '', s.ns, s.links, true);
  const wall = (b.at - a.at) / 1000;
  const cpu = (b.cpuTicks - a.cpuTicks) / hz;
  return {
    label: s.v.label, ok: true, wallS: wall, cpuS: cpu, cpuPct: (100 * cpu) / wall,
    wakeupsPerS: (b.switches - a.switches) / wall, rssKiB: b.rssKiB, hwmKiB: b.hwmKiB, threads: b.threads,
    ...(wrong ? { note: `links not configured: ${wrong}` } : {}),
  };
}

/** Leaves the started watches alone for `seconds` and adds a row for each. */
async function observe(started: readonly IdleWatch[], seconds: number, rows: IdleRow[]): Promise<void> {
  const hz = clockTicks();
  await sleep(SETTLE_MS);
  const first = started.map((s) => (s.proc.exitCode === null ? sample(s.proc.pid) : undefined));
  log(`idle: ${started.length} watch process(es) left alone for ${seconds} s`);
  await sleep(seconds * 1000);
  for (const [i, s] of started.entries()) rows.push(idleRow(s, first[i], hz));
}

export async function idleWorkload(variants: Variant[], seconds: number, base: number): Promise<IdleResults> {
  const build = built();
  const rows: IdleRow[] = [];
  const peer = addNamespace('ipeer');
  const started: IdleWatch[] = [];
  try {
    for (const v of variants) {
      const why = watchAvailable(v.bin);
      if (why) {
        rows.push({ label: v.label, ok: false, reason: why });
        continue;
      }
      const { ns, links } = configuredNs('idle', base, peer, false); // the watch configures them
      const logFile = join(RESULTS_DIR, `idle-${v.label}.log`);
      started.push({ v, ns, links, logFile, proc: startWatch(v, ns, logFile) });
    }
    if (started.length === 0) log(`idle: n/a (${rows[0]?.reason})`);
    else await observe(started, seconds, rows);
    return { date: new Date().toISOString(), build, seconds, links: base, rows };
  } finally {
    for (const s of started) {
      await stop(s.proc);
      deleteNamespace(s.ns);
    }
    deleteNamespace(peer);
  }
}
