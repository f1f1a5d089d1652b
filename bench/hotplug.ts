import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { addLine, addNamespace, benchLink, deleteNamespace, floorLines, lastLine, log, median, RESULTS_DIR, rotate, sh, sleep, type BenchLink } from './common';
import { Monitor, referenceCmd, Runner, spawnTracked, stop } from './procs';
import { applyCmd, type Workspace } from './programs';
import type { HotplugLane, HotplugResults, Variant } from './results';
import { configuredNs, startWatch, watchAvailable } from './watch';

// The hotplug workload: one link appears in a namespace that already has
// `base` configured links. Per-event programs (floor, reference, `guestnet
// apply IFACE`) are started as mdev would, right after the link exists;
// `guestnet watch` is already running in a namespace of its own. An
// `ip monitor` per namespace times every lane the same way.

/** Each event's link is checked and timed for this long, then counted as failed. */
const EVENT_TIMEOUT_MS = 5000;

interface Lane {
  readonly row: HotplugLane;
  readonly ns: string;
  readonly monitor: Monitor;
  /** Adds the link and, for per-event programs, runs the handler. */
  readonly fire: (l: BenchLink) => Promise<void>;
  consecutiveFailures: number;
}

/** The namespaces, runner, monitors and watches of one hotplug run; `close` removes them all. */
class HotplugSetup {
  readonly peer = addNamespace('hpeer');
  /** The namespace of the per-event programs, all sharing one runner and one monitor. */
  readonly exec: string;
  readonly runner: Runner;
  readonly lanes: Lane[] = [];
  readonly watchRows: HotplugLane[] = [];
  private readonly execMonitor: Monitor;
  private readonly monitors: Monitor[];
  private readonly watches = new Map<HotplugLane, { proc: Subprocess; logFile: string }>();
  private readonly streams: Subprocess<'pipe', 'ignore', 'ignore'>[] = [];

  constructor(private readonly base: number) {
    this.exec = configuredNs('hexec', base, this.peer, true).ns;
    this.runner = new Runner(this.exec);
    this.execMonitor = new Monitor(this.exec);
    this.monitors = [this.execMonitor];
  }

  private addArgs(l: BenchLink): string[] {
    return addLine(l, this.peer).split(' ');
  }

  /** A per-event lane: `ip link add`, then `handler` for the new link, both timed by the runner in turn. */
  addExecLane(key: string, label: string, handler: (l: BenchLink) => string[], env?: Record<string, string>): void {
    this.lanes.push({
      row: { key, label, how: 'exec per event', ms: [], failures: 0, ok: true },
      ns: this.exec,
      monitor: this.execMonitor,
      consecutiveFailures: 0,
      fire: async (l) => {
        const r = await this.runner.run({ cmds: [['ip', ...this.addArgs(l)], handler(l)], env });
        if (r.codes.some((c) => c !== 0)) throw new Error(`exit codes ${r.codes.join(',')}`);
      },
    });
  }

  /**
   * The kernel's own cost per event, without exec: one `ip -batch -` kept
   * running in a namespace of its own, fed the link's creation and the
   * floor's lines through a pipe in one write. What is left is the kernel's
   * work (and ip's parsing), so its growth with N is the kernel's.
   */
  addStreamFloorLane(): void {
    const { ns } = configuredNs('hstream', this.base, this.peer, true);
    const monitor = new Monitor(ns);
    this.monitors.push(monitor);
    const ip = spawnTracked(['ip', '-n', ns, '-force', '-batch', '-'], { stdin: 'pipe', stdout: 'ignore', stderr: 'ignore' }) as Subprocess<'pipe', 'ignore', 'ignore'>;
    this.streams.push(ip);
    const row: HotplugLane = { key: 'floor-stream', label: 'kernel floor: one ip -batch - kept running', how: 'long-running, no exec', ms: [], failures: 0, ok: true };
    this.lanes.push({
      row, ns, monitor, consecutiveFailures: 0,
      fire: async (l) => {
        ip.stdin.write([addLine(l, this.peer), ...floorLines(l)].join('\n') + '\n');
        await ip.stdin.flush();
      },
    });
  }

  /** A `guestnet watch` lane in a namespace of its own; a row with the reason if it cannot run. */
  addWatchLane(v: Variant): void {
    const row: HotplugLane = { key: `watch:${v.label}`, label: `guestnet watch (${v.label})`, how: 'long-running', ms: [], failures: 0, ok: false };
    this.watchRows.push(row);
    const why = v.available ? watchAvailable(v.bin) : v.reason;
    if (why) {
      row.reason = why;
      return;
    }
    const { ns } = configuredNs('hwatch', this.base, this.peer, true);
    const monitor = new Monitor(ns);
    this.monitors.push(monitor);
    const logFile = join(RESULTS_DIR, `watch-${v.label}.log`);
    this.watches.set(row, { proc: startWatch(v, ns, logFile), logFile });
    this.lanes.push({ row, ns, monitor, consecutiveFailures: 0, fire: async (l) => void sh('ip', ['-n', ns, ...this.addArgs(l)]) });
    row.ok = true;
  }

  /** Marks watches that have already exited n/a, with the last line they logged. */
  checkWatches(): void {
    for (const [row, { proc, logFile }] of this.watches) {
      if (proc.exitCode !== null) Object.assign(row, { ok: false, reason: `watch exited with ${proc.exitCode}: ${lastLine(readFileSync(logFile, 'utf8'))}` });
      // `ip netns exec` execs the watch in its own place: the pid is guestnet's.
      else row.rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1]);
    }
  }

  async close(): Promise<void> {
    for (const { proc } of this.watches.values()) await stop(proc);
    for (const ip of this.streams) {
      void ip.stdin.end();
      await stop(ip);
    }
    for (const m of this.monitors) await m.close();
    await this.runner.close();
    for (const lane of this.lanes) if (lane.ns !== this.exec) deleteNamespace(lane.ns);
    deleteNamespace(this.exec);
    deleteNamespace(this.peer);
  }
}

/** Event `k` on lane `idx`: fire, wait for the monitor, record; three failures in a row retire the lane. */
async function fireEvent(lane: Lane, idx: number, k: number, warmup: number): Promise<void> {
  const link = benchLink(`h${idx}x${k}`, `q${idx}x${k}`, 0xa0 + idx, k, k % 2 === 0 ? 'client' : 'provider');
  const done = lane.monitor.expect(link, EVENT_TIMEOUT_MS);
  let ms: number | undefined;
  let why = 'not configured within 5 s';
  try {
    await lane.fire(link);
    ms = await done;
  } catch (err) {
    why = (err as Error).message;
  }
  if (k >= warmup) {
    if (ms === undefined) lane.row.failures++;
    else lane.row.ms.push(ms);
  }
  lane.consecutiveFailures = ms === undefined ? lane.consecutiveFailures + 1 : 0;
  if (lane.consecutiveFailures >= 3) Object.assign(lane.row, { ok: false, reason: `3 events in a row failed: ${why}` });
  spawnSync('ip', ['-n', lane.ns, 'link', 'del', link.name]);
  await sleep(30); // let a watch finish its cleanup before the next event
}

/** Events interleaved: every round fires one event on each live lane, the order rotating. */
async function runEvents(lanes: readonly Lane[], events: number, warmup: number): Promise<void> {
  for (let k = 0; k < events + warmup; k++) {
    for (const [idx, lane] of rotate([...lanes.entries()], k)) {
      if (lane.row.ok) await fireEvent(lane, idx, k, warmup);
    }
    if (k % 20 === 0) log(`hotplug event ${k}/${events + warmup} (${lanes.filter((l) => l.row.ok).length} programs)`);
  }
}

export async function hotplugWorkload(variants: Variant[], base: number, events: number, quick: boolean, ws: Workspace): Promise<HotplugResults> {
  const watchReason = watchAvailable();
  const h = new HotplugSetup(base);
  try {
    h.addExecLane('floor', 'floor: ip -batch FILE', (l) => {
      const file = join(ws.work, `hp-${l.name}.batch`);
      writeFileSync(file, floorLines(l).join('\n') + '\n');
      return ['ip', '-batch', file];
    });
    h.addStreamFloorLane();
    h.addExecLane('reference', 'reference.sh IFACE', (l) => referenceCmd(l.name), ws.bbEnv);
    for (const v of variants.filter((x) => x.available)) h.addExecLane(`apply:${v.label}`, `guestnet apply IFACE (${v.label})`, (l) => applyCmd(v, [l.name]));
    for (const v of variants) h.addWatchLane(v);
    await sleep(1500 + base); // monitors subscribed, watches started (and done with the base links)
    h.checkWatches();
    await runEvents(h.lanes, events, quick ? 1 : 3);

    const rows = [...h.lanes.filter((l) => !l.row.key.startsWith('watch:')).map((l) => l.row), ...h.watchRows];
    for (const row of rows) {
      if (row.ok && row.ms.length === 0) Object.assign(row, { ok: false, reason: row.reason ?? 'no event completed' });
      log(`hotplug, ${base} links configured, ${row.label}: ${row.ok ? `median ${median(row.ms).toFixed(2)} ms` : `n/a (${row.reason})`}`);
    }
    return { base, events, watch: watchReason ? { available: false, reason: watchReason } : { available: true }, lanes: rows };
  } finally {
    await h.close();
  }
}
