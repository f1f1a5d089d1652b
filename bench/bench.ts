import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Subprocess } from 'bun';
import {
  addLine, addNamespace, benchLink, bootLinks, deleteNamespace, deleteNamespaces, expectedState, floorLines,
  GUESTNET, linkCount, log, median, readState, RESULTS_DIR, ROOT, rotate, sh, sleep, type BenchLink,
} from './common';
import { killAllStarted, Monitor, referenceCmd, Runner, spawnTracked, stop } from './procs';
import { writeReport, type BootRow, type HotplugLane, type IdleResults, type Results, type StartupRow, type Variant } from './report';

// `make bench`: boot apply and hotplug workloads, guestnet variants against the
// reference script and the `ip -batch` floor, interleaved; writes
// bench/results/*.json, bench/RESULTS.md and bench/chart.svg.
// `make bench-idle`: `guestnet watch` left alone for 10 minutes.
// Every namespace and process it starts is removed again, also on failure.

const USAGE = `usage: bun run bench/bench.ts [options]
  --variant SPEC     guestnet variant to measure (repeatable; default: auto, ip, netlink).
                     SPEC is a preset (auto, ip, netlink, busybox) or LABEL=[BINARY] ARGS...,
                     e.g. 'nl2=/tmp/guestnet --backend netlink'
  --sizes LIST       link counts for boot apply (default 1,8,64,256)
  --events N         hotplug events per program (default 100)
  --hotplug-base N   configured links already in the namespace (default 8)
  --quick            few repetitions, for trying the harness out
  --idle             run the idle workload instead (default 600 s; --idle-seconds S)
  --report           only rewrite RESULTS.md and chart.svg from bench/results/`;

interface Config {
  variants: string[];
  sizes: number[];
  events: number;
  hotplugBase: number;
  quick: boolean;
  idle: boolean;
  idleSeconds: number;
  reportOnly: boolean;
}

function parseArgs(argv: string[]): Config {
  const c: Config = { variants: [], sizes: [1, 8, 64, 256], events: 100, hotplugBase: 8, quick: false, idle: false, idleSeconds: 600, reportOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const value = (): string => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value\n${USAGE}`);
      return argv[++i];
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new Error(`${argv[i - 1]}: not a positive integer`);
      return v;
    };
    switch (argv[i]) {
      case '--variant': c.variants.push(value()); break;
      case '--sizes': c.sizes = value().split(',').map(Number); break;
      case '--events': c.events = int(); break;
      case '--hotplug-base': c.hotplugBase = int(); break;
      case '--quick': c.quick = true; break;
      case '--idle': c.idle = true; break;
      case '--idle-seconds': c.idleSeconds = int(); break;
      case '--report': c.reportOnly = true; break;
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default: throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    }
  }
  if (c.variants.length === 0) c.variants = ['auto', 'ip', 'netlink'];
  if (c.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 512)) throw new Error('--sizes: 1-512 each');
  if (c.events > 200) throw new Error('--events: at most 200');
  if (c.quick) c.events = Math.min(c.events, 10);
  return c;
}

// ---- busybox `ip`/`awk` for the reference script (and the busybox preset) ----

const scratch = mkdtempSync(join(tmpdir(), 'gnbench-')); // removed by cleanup()
const bbDir = join(scratch, 'bin');
const workDir = join(scratch, 'work');
mkdirSync(bbDir);
mkdirSync(workDir);
const busybox = sh('sh', ['-c', 'command -v busybox']).trim();
for (const applet of ['ip', 'awk', 'sh']) symlinkSync(busybox, join(bbDir, applet));
const bbEnv = { PATH: `${bbDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };

function parseVariant(spec: string): Variant {
  const presets: Record<string, string[]> = {
    auto: ['--backend', 'auto'],
    ip: ['--backend', 'ip'],
    netlink: ['--backend', 'netlink'],
    busybox: ['--backend', 'ip', '--ip-binary', join(bbDir, 'ip')],
  };
  if (presets[spec]) return { label: spec, bin: GUESTNET, args: presets[spec], available: true };
  const m = /^([\w.-]+)=(.*)$/.exec(spec);
  if (!m) throw new Error(`--variant ${spec}: not a preset (${Object.keys(presets).join(', ')}) nor LABEL=ARGS`);
  const words = m[2].split(/\s+/).filter(Boolean);
  const bin = words.length > 0 && !words[0].startsWith('-') ? resolve(words.shift()!) : GUESTNET;
  return { label: m[1], bin, args: words, available: true };
}

const applyCmd = (v: Variant, ifnames: string[] = []): string[] => [v.bin, 'apply', ...v.args, ...ifnames];
const firstLine = (text: string): string => text.split('\n').find((l) => l.trim())?.trim() ?? '';
const lastLine = (text: string): string => text.split('\n').filter((l) => l.trim()).pop()?.trim() ?? '';

/** Why a run is not correct (exit codes, then kernel state), or undefined. */
function verdict(codes: readonly number[], stderr: string, ns: string, links: readonly BenchLink[], forwarding: boolean): string | undefined {
  const bad = codes.find((c) => c !== 0);
  if (bad !== undefined) return `exit ${bad}: ${firstLine(stderr) || 'no message'}`;
  const want = expectedState(links);
  const got = readState(ns);
  const missing = want.filter((s) => !got.includes(s));
  const extra = got.filter((s) => !want.includes(s));
  if (missing.length || extra.length) {
    return `wrong state (${missing.length} missing, e.g. "${missing[0] ?? ''}"; ${extra.length} extra, e.g. "${extra[0] ?? ''}")`;
  }
  const fwd = sh('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ip_forward']).trim() === '1';
  if (forwarding && links.some((l) => l.role === 'provider') && !fwd) return 'ip_forward not enabled';
  return undefined;
}

/**
 * GNU time around each command, for peak RSS: the runner's own numbers are
 * useless for that, since bun spawns with vfork and the child's high-water
 * mark starts at the runner's size.
 */
function underTime(cmds: string[][], file: string): string[][] {
  return cmds.map((c) => ['/usr/bin/time', '-a', '-o', file, '-f', '%M', ...c]);
}

/** The largest peak RSS (KiB) GNU time wrote to `file`; removes the file. */
function readPeakRss(file: string): number {
  const kib = readFileSync(file, 'utf8').split('\n').map(Number).filter((v) => v > 0);
  rmSync(file, { force: true });
  return Math.max(...kib);
}

// ---- boot apply -------------------------------------------------------------

interface Program {
  readonly key: string;
  readonly label: string;
  readonly kind: 'floor' | 'reference' | 'guestnet';
  /** Commands for these links (the floor writes its batch file here, before the timed region). */
  readonly cmds: (links: readonly BenchLink[]) => string[][];
  readonly env?: Record<string, string>;
  readonly forwarding: boolean;
}

function programs(variants: readonly Variant[]): Program[] {
  const batch = join(workDir, 'floor.batch');
  return [
    { key: 'floor', label: 'floor (one ip -batch)', kind: 'floor', forwarding: false,
      cmds: (links) => { writeFileSync(batch, links.flatMap(floorLines).join('\n') + '\n'); return [['ip', '-batch', batch]]; } },
    { key: 'reference', label: 'reference (reference.sh per link)', kind: 'reference', forwarding: true, env: bbEnv,
      cmds: (links) => links.map((l) => referenceCmd(l.name)) },
    ...variants.filter((v) => v.available).map((v): Program => ({
      key: `guestnet:${v.label}`, label: `guestnet ${v.label}`, kind: 'guestnet', forwarding: true, cmds: () => [applyCmd(v)],
    })),
  ];
}

/** Namespace T whose links are re-created (down, unconfigured) before every run. */
class BootNs {
  readonly ns = addNamespace('boot');
  private peer: string | undefined;

  /** Fresh links: drop the peer namespace (all veth pairs go at once), wait, create anew. */
  reset(links: readonly BenchLink[]): void {
    if (this.peer) deleteNamespace(this.peer);
    const deadline = Date.now() + 20_000;
    while (linkCount(this.ns) > 1) {
      if (Date.now() > deadline) throw new Error(`${this.ns}: old links did not go away`);
      Bun.sleepSync(2);
    }
    this.peer = addNamespace('peer');
    if (links.length > 0) sh('ip', ['-n', this.ns, '-batch', '-'], links.map((l) => addLine(l, this.peer!)).join('\n') + '\n');
    Bun.sleepSync(20); // let the deletion's deferred kernel work finish outside the timed region
  }

  close(): void {
    if (this.peer) deleteNamespace(this.peer);
    deleteNamespace(this.ns);
  }
}

const FORWARD_OFF: [string, string][] = [['/proc/sys/net/ipv4/ip_forward', '0\n']];

function repsFor(n: number, quick: boolean): number {
  if (quick) return 3;
  return n <= 8 ? 60 : n <= 64 ? 30 : 15;
}

async function bootWorkload(cfg: Config, variants: Variant[]): Promise<{ startup: StartupRow[]; boot: BootRow[] }> {
  const t = new BootNs();
  const runner = new Runner(t.ns);
  try {
    // Availability: one checked run of every variant at N=8, before anything is timed.
    for (const v of variants) {
      const links = bootLinks(8, 'c');
      t.reset(links);
      const r = await runner.run({ cmds: [applyCmd(v)], writes: FORWARD_OFF, capture: true });
      const why = verdict(r.codes, r.stderr, t.ns, links, true);
      if (why) Object.assign(v, { available: false, reason: why });
      log(`variant ${v.label}: ${why ? `n/a (${why})` : 'ok'}`);
    }

    // Startup floors: no inter-guest links at all.
    const ok = variants.find((v) => v.available) ?? variants[0];
    const startupCmds: [string, string[]][] = [
      ['guestnet --version', [GUESTNET, '--version']],
      ['guestnet derive MAC', [GUESTNET, 'derive', '0a:b3:ec:00:a5:46']],
      [`guestnet apply (no links, ${ok.label})`, applyCmd(ok)],
      ['ip -batch (empty)', ['ip', '-batch', '/dev/null']],
      ['busybox sh -c :', ['busybox', 'sh', '-c', ':']],
    ];
    t.reset([]);
    const startup: StartupRow[] = startupCmds.map(([label, cmd]) => ({ label, cmd: cmd.join(' '), ms: [], rssKiB: 0 }));
    const reps = cfg.quick ? 3 : 30;
    for (let r = 0; r < reps + 1; r++) {
      for (const i of rotate(startup.map((_, i) => i), r)) {
        const reply = await runner.run({ cmds: [startupCmds[i][1]] });
        if (r > 0) startup[i].ms.push(reply.ms); // r = 0 warms the page cache
      }
    }
    for (const [i, row] of startup.entries()) {
      const file = join(workDir, 'time.txt');
      await runner.run({ cmds: underTime([startupCmds[i][1]], file) });
      row.rssKiB = readPeakRss(file);
      log(`startup ${row.label}: median ${median(row.ms).toFixed(2)} ms`);
    }

    const boot: BootRow[] = [];
    for (const n of cfg.sizes) {
      const links = bootLinks(n, 'b');
      const progs = programs(variants);
      const rows = progs.map((p): BootRow => ({ n, key: p.key, label: p.label, kind: p.kind, ms: [], cpuMs: [], ok: true, errors: 0 }));
      // One checked, untimed run each (also warms caches), then one under GNU time for peak RSS.
      for (const [i, p] of progs.entries()) {
        t.reset(links);
        const r = await runner.run({ cmds: p.cmds(links), env: p.env, writes: FORWARD_OFF, capture: true });
        const why = verdict(r.codes, r.stderr, t.ns, links, p.forwarding);
        if (why) {
          if (p.kind !== 'guestnet') throw new Error(`N=${n} ${p.label} is broken: ${why}`);
          Object.assign(rows[i], { ok: false, reason: why });
          log(`N=${n} ${p.label}: n/a (${why})`);
        }
      }
      const live = progs.map((_, i) => i).filter((i) => rows[i].ok);
      for (const i of live) {
        const file = join(workDir, 'time.txt');
        t.reset(links);
        await runner.run({ cmds: underTime(progs[i].cmds(links), file), env: progs[i].env, writes: FORWARD_OFF });
        rows[i].rssKiB = readPeakRss(file);
      }
      // Timed runs, interleaved: every round runs each program once, the order rotating.
      const reps = repsFor(n, cfg.quick);
      for (let r = 0; r < reps; r++) {
        for (const i of rotate(live, r)) {
          t.reset(links);
          const reply = await runner.run({ cmds: progs[i].cmds(links), env: progs[i].env, writes: FORWARD_OFF });
          rows[i].ms.push(reply.ms);
          rows[i].cpuMs.push(reply.cpuMs);
          if (reply.codes.some((c) => c !== 0)) rows[i].errors++;
        }
      }
      for (const row of rows) log(`N=${n} ${row.label}: ${row.ok ? `median ${median(row.ms).toFixed(2)} ms` : 'n/a'}`);
      boot.push(...rows);
    }
    return { startup, boot };
  } finally {
    await runner.close();
    t.close();
  }
}

// ---- hotplug ----------------------------------------------------------------

/** `guestnet watch --help` must exit 0 and describe `watch` (yargs answers any --help with the global help). */
function watchAvailable(bin = GUESTNET): string | undefined {
  const r = spawnSync(bin, ['watch', '--help'], { encoding: 'utf8', timeout: 10_000 });
  const name = relative(ROOT, bin).startsWith('..') ? bin : relative(ROOT, bin);
  if (r.status !== 0) return `${name} watch --help exits ${r.status}: ${firstLine(r.stderr)}`;
  return /^guestnet watch\b/m.test(r.stdout) ? undefined : `no watch command in ${name} yet`;
}

/** A namespace with `base` configured links (the floor's commands) and forwarding on. */
function configuredNs(tag: string, base: number, peerNs: string, configure: boolean): { ns: string; links: BenchLink[] } {
  const ns = addNamespace(tag);
  const links = bootLinks(base, `p${ns.slice(ns.lastIndexOf('-') + 1).replace(/\D/g, '')}x`);
  const lines = links.map((l) => addLine(l, peerNs));
  if (configure) lines.push(...links.flatMap(floorLines));
  if (lines.length > 0) sh('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
  if (configure) sh('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
  return { ns, links };
}

function startWatch(v: Variant, ns: string, logFile: string): Subprocess {
  const out = openSync(logFile, 'w');
  return spawnTracked(['ip', 'netns', 'exec', ns, v.bin, 'watch', ...v.args], { stdin: 'ignore', stdout: out, stderr: out });
}

interface Lane {
  readonly row: HotplugLane;
  readonly ns: string;
  readonly monitor: Monitor;
  /** Adds the link and, for per-event programs, runs the handler. */
  readonly fire: (l: BenchLink) => Promise<void>;
  consecutiveFailures: number;
}

async function hotplugWorkload(cfg: Config, variants: Variant[]): Promise<Results['hotplug']> {
  const watchReason = watchAvailable();
  const live = variants.filter((v) => v.available);
  const peer = addNamespace('hpeer');
  const exec = configuredNs('hexec', cfg.hotplugBase, peer, true);
  const runner = new Runner(exec.ns);
  const execMonitor = new Monitor(exec.ns);
  const monitors = [execMonitor];
  const watches: Subprocess[] = [];
  const lanes: Lane[] = [];
  const addArgs = (l: BenchLink) => addLine(l, peer).split(' ');
  try {
    const execLane = (key: string, label: string, handler: (l: BenchLink) => string[], env?: Record<string, string>) => {
      lanes.push({
        row: { key, label, how: 'exec per event', ms: [], failures: 0, ok: true },
        ns: exec.ns,
        monitor: execMonitor,
        consecutiveFailures: 0,
        fire: async (l) => {
          const r = await runner.run({ cmds: [['ip', ...addArgs(l)], handler(l)], env });
          if (r.codes.some((c) => c !== 0)) throw new Error(`exit codes ${r.codes.join(',')}`);
        },
      });
    };
    execLane('floor', 'floor: ip -batch FILE', (l) => {
      const file = join(workDir, `hp-${l.name}.batch`);
      writeFileSync(file, floorLines(l).join('\n') + '\n');
      return ['ip', '-batch', file];
    });
    execLane('reference', 'reference.sh IFACE', (l) => referenceCmd(l.name), bbEnv);
    for (const v of live) execLane(`apply:${v.label}`, `guestnet apply IFACE (${v.label})`, (l) => applyCmd(v, [l.name]));

    const watchRows: HotplugLane[] = [];
    const watchProcs = new Map<HotplugLane, { proc: Subprocess; logFile: string }>();
    for (const v of variants) {
      const row: HotplugLane = { key: `watch:${v.label}`, label: `guestnet watch (${v.label})`, how: 'long-running', ms: [], failures: 0, ok: false };
      watchRows.push(row);
      const why = v.available ? watchAvailable(v.bin) : v.reason;
      if (why) {
        row.reason = why;
        continue;
      }
      const w = configuredNs('hwatch', cfg.hotplugBase, peer, true);
      const monitor = new Monitor(w.ns);
      monitors.push(monitor);
      const logFile = join(RESULTS_DIR, `watch-${v.label}.log`);
      const proc = startWatch(v, w.ns, logFile);
      watches.push(proc);
      watchProcs.set(row, { proc, logFile });
      lanes.push({ row, ns: w.ns, monitor, consecutiveFailures: 0, fire: async (l) => void sh('ip', ['-n', w.ns, ...addArgs(l)]) });
      row.ok = true;
    }
    await sleep(1500); // monitors subscribed, watches started (and done with the base links)
    for (const [row, { proc, logFile }] of watchProcs) {
      if (proc.exitCode !== null) Object.assign(row, { ok: false, reason: `watch exited with ${proc.exitCode}: ${lastLine(readFileSync(logFile, 'utf8'))}` });
    }

    const active = () => lanes.filter((l) => l.row.ok);
    const warmup = cfg.quick ? 1 : 3;
    for (let k = 0; k < cfg.events + warmup; k++) {
      for (const [idx, lane] of rotate([...lanes.entries()], k)) {
        if (!lane.row.ok) continue;
        const link = benchLink(`h${idx}x${k}`, `q${idx}x${k}`, 0xa0 + idx, k, k % 2 === 0 ? 'client' : 'provider');
        const done = lane.monitor.expect(link, 5000);
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
      if (k % 20 === 0) log(`hotplug event ${k}/${cfg.events + warmup} (${active().length} programs)`);
    }
    const rows = [...lanes.filter((l) => !l.row.key.startsWith('watch:')).map((l) => l.row), ...watchRows];
    for (const row of rows) {
      if (row.ok && row.ms.length === 0) Object.assign(row, { ok: false, reason: row.reason ?? 'no event completed' });
      log(`hotplug ${row.label}: ${row.ok ? `median ${median(row.ms).toFixed(2)} ms` : `n/a (${row.reason})`}`);
    }
    return { base: cfg.hotplugBase, events: cfg.events, watch: watchReason ? { available: false, reason: watchReason } : { available: true }, lanes: rows };
  } finally {
    for (const w of watches) await stop(w);
    for (const m of monitors) await m.close();
    await runner.close();
    for (const lane of lanes) if (lane.ns !== exec.ns) deleteNamespace(lane.ns);
    deleteNamespace(exec.ns);
    deleteNamespace(peer);
  }
}

// ---- idle -------------------------------------------------------------------

interface Sample {
  at: number;
  cpuTicks: number;
  rssKiB: number;
  hwmKiB: number;
  switches: number;
  threads: number;
}

function sample(pid: number): Sample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // Fields 14-17 of stat(5): utime stime cutime cstime; f[0] is field 3.
  const cpuTicks = f[11] + f[12] + f[13] + f[14];
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  let switches = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const s = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    for (const m of s.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) switches += Number(m[1]);
  }
  return { at: Date.now(), cpuTicks, rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM'), switches, threads: kib('Threads') };
}

async function idleWorkload(cfg: Config, variants: Variant[]): Promise<IdleResults> {
  const hz = Number(sh('getconf', ['CLK_TCK']).trim()) || 100;
  const build = built();
  const rows: IdleResults['rows'] = [];
  const peer = addNamespace('ipeer');
  const started: { v: Variant; ns: string; links: BenchLink[]; proc: Subprocess; logFile: string }[] = [];
  try {
    for (const v of variants) {
      const why = watchAvailable(v.bin);
      if (why) {
        rows.push({ label: v.label, ok: false, reason: why });
        continue;
      }
      const { ns, links } = configuredNs('idle', cfg.hotplugBase, peer, false); // the watch configures them
      const logFile = join(RESULTS_DIR, `idle-${v.label}.log`);
      started.push({ v, ns, links, logFile, proc: startWatch(v, ns, logFile) });
    }
    if (started.length === 0) log(`idle: n/a (${rows[0]?.reason})`);
    else {
      await sleep(5000);
      const first = started.map((s) => (s.proc.exitCode === null ? sample(s.proc.pid) : undefined));
      log(`idle: ${started.length} watch process(es) left alone for ${cfg.idleSeconds} s`);
      await sleep(cfg.idleSeconds * 1000);
      for (const [i, s] of started.entries()) {
        const a = first[i];
        if (!a || s.proc.exitCode !== null) {
          rows.push({ label: s.v.label, ok: false, reason: `watch exited (${s.proc.exitCode}): ${lastLine(readFileSync(s.logFile, 'utf8'))}` });
          continue;
        }
        const b = sample(s.proc.pid);
        const wrong = verdict([0], '', s.ns, s.links, true);
        const wall = (b.at - a.at) / 1000;
        const cpu = (b.cpuTicks - a.cpuTicks) / hz;
        rows.push({
          label: s.v.label, ok: true, wallS: wall, cpuS: cpu, cpuPct: (100 * cpu) / wall,
          wakeupsPerS: (b.switches - a.switches) / wall, rssKiB: b.rssKiB, hwmKiB: b.hwmKiB, threads: b.threads,
          ...(wrong ? { note: `links not configured: ${wrong}` } : {}),
        });
      }
    }
    return { date: new Date().toISOString(), build, seconds: cfg.idleSeconds, links: cfg.hotplugBase, rows };
  } finally {
    for (const s of started) {
      await stop(s.proc);
      deleteNamespace(s.ns);
    }
    deleteNamespace(peer);
  }
}

// ---- main -------------------------------------------------------------------

const built = (): string => `dist/guestnet built ${statSync(GUESTNET).mtime.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Busy CPU ticks of the whole machine (/proc/stat) and of this process and its reaped children. */
function ticks(): { all: number; own: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const g = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // user nice system idle iowait irq softirq steal; stat(5) fields 14-17 are g[11..14]
  return { all: f[0] + f[1] + f[2] + f[5] + f[6] + f[7], own: g[11] + g[12] + g[13] + g[14] };
}

/**
 * How busy the machine is with work that is not ours, as a share of all
 * CPUs: noise for every number here. Our children count once reaped, so
 * measure after they have all exited. Kernel threads (namespace teardown)
 * count as "not ours" even when the benchmark caused them.
 */
function cpuOutsideUs(): { othersPct: () => number } {
  const a = ticks();
  const t0 = Date.now();
  const cores = cpus().length;
  const hz = Number(sh('getconf', ['CLK_TCK']).trim()) || 100;
  return {
    othersPct: () => {
      const b = ticks();
      const wallTicks = ((Date.now() - t0) / 1000) * hz * cores;
      return (100 * (b.all - a.all - (b.own - a.own))) / wallTicks;
    },
  };
}

async function backgroundBefore(): Promise<number> {
  const probe = cpuOutsideUs();
  await sleep(2000);
  return probe.othersPct();
}

function machine(): Results['machine'] {
  const out = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '';
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: Number(out('nproc', [])) || cpus().length,
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    kernel: release(),
    memGiB: Math.round(totalmem() / 2 ** 30),
    background: { beforePct: NaN, duringPct: NaN },
    guestnet: `${out(GUESTNET, ['--version'])}, ${built()}`,
    commit: `${out('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])}${out('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : ''}`,
    bun: Bun.version,
    iproute2: out('ip', ['-V']).replace(/^ip utility, /, ''),
    busybox: firstLine(out('busybox', [])).replace(/ multi-call binary\.?$/, ''),
  };
}

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  mkdirSync(RESULTS_DIR, { recursive: true });
  const resultsFile = join(RESULTS_DIR, 'latest.json');
  const idleFile = join(RESULTS_DIR, 'idle.json');
  const readJson = <T>(f: string): T | undefined => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as T) : undefined);
  if (!cfg.reportOnly) {
    if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
    if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: make build`);
    const variants = cfg.variants.map(parseVariant);
    if (cfg.idle) {
      writeFileSync(idleFile, JSON.stringify(await idleWorkload(cfg, variants), null, 1) + '\n');
    } else {
      const beforePct = await backgroundBefore();
      const cpu = cpuOutsideUs();
      const started = Date.now();
      const results: Results = {
        date: new Date().toISOString(), machine: machine(), config: { sizes: cfg.sizes, events: cfg.events, hotplugBase: cfg.hotplugBase, quick: cfg.quick },
        variants, startup: [], boot: [], hotplug: { base: cfg.hotplugBase, events: cfg.events, watch: { available: false }, lanes: [] }, durationS: 0,
      };
      Object.assign(results, await bootWorkload(cfg, variants));
      results.hotplug = await hotplugWorkload(cfg, variants);
      results.durationS = Math.round((Date.now() - started) / 1000);
      results.machine.background = { beforePct, duringPct: cpu.othersPct() };
      writeFileSync(resultsFile, JSON.stringify(results, null, 1) + '\n');
    }
  }
  const results = readJson<Results>(resultsFile);
  if (!results) throw new Error(`${resultsFile} is missing: run make bench first`);
  writeReport(results, readJson<IdleResults>(idleFile));
  log(`wrote bench/RESULTS.md and bench/chart.svg`);
}

function cleanup(): void {
  killAllStarted();
  deleteNamespaces();
  rmSync(scratch, { recursive: true, force: true });
}

process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    process.exit(130);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
