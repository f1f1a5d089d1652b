import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootWorkload } from './boot';
import { deleteNamespaces, GUESTNET, log, median, percentile, RESULTS_DIR } from './common';
import { forwardWorkload } from './forward';
import { emulatedWorkload } from './emulated';
import { hotplugWorkload } from './hotplug';
import { uplinkWorkload } from './uplink';
import { dnsWorkload } from './dns';
import { dnsTable } from './report-dns';
import { idleWorkload } from './idle';
import { backgroundBefore, cpuOutsideUs, machine } from './machine';
import { parseArgs, USAGE, type Config } from './options';
import { killAllStarted } from './procs';
import { createWorkspace, parseVariant, readFromDisk, removeWorkspace, type Workspace } from './programs';
import { forwardSection, writeEmulatedSection, writeReport } from './report';
import type { DnsResults, EmulatedResults, ForwardResults, HotplugResults, IdleResults, Results, Variant } from './results';

// `make bench`: boot apply and hotplug workloads, guestnet variants against the
// reference script and the `ip -batch` floor, interleaved, and forwarding
// throughput through the netvm's firewall (bench/forward.ts); writes
// bench/results/*.json, bench/RESULTS.md and bench/chart.svg.
// `make bench-idle`: `guestnet watch` left alone for 10 minutes.
// Both `make bench` and `--emulated` time the aarch64 build under qemu-user.
// Every namespace and process it starts is removed again, also on failure.

const RESULTS_FILE = join(RESULTS_DIR, 'latest.json');
const IDLE_FILE = join(RESULTS_DIR, 'idle.json');
const HOTPLUG_FILE = join(RESULTS_DIR, 'hotplug.json');
const FORWARD_FILE = join(RESULTS_DIR, 'forward.json');
const DNS_FILE = join(RESULTS_DIR, 'dns.json');
const EMULATED_FILE = join(RESULTS_DIR, 'emulated.json');

const readJson = <T>(f: string): T | undefined => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as T) : undefined);
const writeJson = (f: string, data: object): void => writeFileSync(f, JSON.stringify(data, null, 1) + '\n');

/** Boot and hotplug, with how busy the machine was before and during. */
async function measure(cfg: Config, variants: Variant[], ws: Workspace): Promise<Results> {
  const beforePct = await backgroundBefore();
  const cpu = cpuOutsideUs();
  const started = Date.now();
  const m = machine();
  const { startup, boot } = await bootWorkload(variants, cfg.sizes, cfg.quick, ws);
  const hotplug = await hotplugRuns(cfg, variants, ws);
  const uplink = await uplinkWorkload(variants, cfg.quick);
  writeJson(FORWARD_FILE, await forwardWorkload(variants[0], cfg.quick));
  const dns = await dnsWorkload(cfg.quick);
  const results: Results = {
    date: new Date(started).toISOString(), machine: m,
    config: { sizes: cfg.sizes, events: cfg.events, hotplugBase: cfg.hotplugBase, quick: cfg.quick },
    variants, startup, boot, hotplug, uplink, dns, durationS: Math.round((Date.now() - started) / 1000),
  };
  m.background = { beforePct, duringPct: cpu.othersPct() };
  return results;
}

/** The hotplug workload at every base. */
async function hotplugRuns(cfg: Config, variants: Variant[], ws: Workspace): Promise<HotplugResults[]> {
  const runs = [];
  // Fewer events where thousands of links are configured: each lane's namespace takes a while to build.
  for (const base of cfg.hotplugBase) runs.push(await hotplugWorkload(variants, base, base > 8 ? Math.min(cfg.events, 30) : cfg.events, cfg.quick, ws));
  return runs;
}

/** `--hotplug-only`: the hotplug part alone, with the load it ran under; RESULTS.md stays as it is. */
async function hotplugOnly(cfg: Config, variants: Variant[], ws: Workspace): Promise<void> {
  const started = Date.now();
  const beforePct = await backgroundBefore();
  const cpu = cpuOutsideUs();
  const hotplug = await hotplugRuns(cfg, variants, ws);
  const background = { beforePct, duringPct: cpu.othersPct() };
  writeJson(HOTPLUG_FILE, { date: new Date(started).toISOString(), background, variants, hotplug });
  process.stdout.write(`CPU outside the benchmark: ${beforePct.toFixed(0)}% before, ${background.duringPct.toFixed(0)}% during\n`);
  for (const h of hotplug) {
    for (const l of h.lanes) process.stdout.write(`${h.base}\t${l.label}\t${l.ok ? `median ${median(l.ms).toFixed(2)} ms, p90 ${percentile(l.ms, 90).toFixed(2)} ms, ${l.ms.length} events` : `n/a (${l.reason})`}\n`);
  }
}

/** Runs the workload `cfg` asks for and writes its raw results. */
async function run(cfg: Config): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: make build`);
  const ws = createWorkspace();
  process.on('exit', () => removeWorkspace(ws));
  const variants = cfg.variants.map((spec) => parseVariant(spec, ws));
  readFromDisk([ws.empty, GUESTNET, ...variants.map((v) => v.bin)]);
  if (cfg.idle) writeJson(IDLE_FILE, await idleWorkload(variants, cfg.idleSeconds, cfg.hotplugBase[0]));
  else if (cfg.hotplugOnly) await hotplugOnly(cfg, variants, ws);
  else if (cfg.forwardOnly) {
    const fwd = await forwardWorkload(variants[0], cfg.quick);
    writeJson(FORWARD_FILE, fwd);
    process.stdout.write(forwardSection(fwd));
  }
  else if (cfg.dnsOnly) {
    const dns = await dnsWorkload(cfg.quick);
    writeJson(DNS_FILE, dns);
    process.stdout.write(dnsTable(dns));
  }
  else if (cfg.emulated) writeJson(EMULATED_FILE, await emulatedWorkload(ws, cfg.quick));
  else {
    writeJson(RESULTS_FILE, await measure(cfg, variants, ws));
    writeJson(EMULATED_FILE, await emulatedWorkload(ws, cfg.quick));
  }
}

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  if (cfg.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (!cfg.reportOnly) await run(cfg);
  if (cfg.hotplugOnly || cfg.dnsOnly) return;
  const results = readJson<Results>(RESULTS_FILE);
  if (cfg.forwardOnly && !results) return;
  const emulated = readJson<EmulatedResults>(EMULATED_FILE);
  // Without the main results (never run here), --emulated still renews its own section.
  if (!results && cfg.emulated && emulated) {
    writeEmulatedSection(emulated);
    log('wrote the emulated section of bench/RESULTS.md');
    return;
  }
  if (!results) throw new Error(`${RESULTS_FILE} is missing: run make bench first`);
  // A --dns-only run newer than the full run's DNS lanes replaces them in the report.
  const dns = readJson<DnsResults>(DNS_FILE);
  if (dns && (!results.dns || dns.date > results.dns.date)) results.dns = dns;
  writeReport(results, readJson<IdleResults>(IDLE_FILE), readJson<ForwardResults>(FORWARD_FILE), emulated);
  log(`wrote bench/RESULTS.md and bench/chart.svg`);
}

// Synchronous, so it also runs on process.exit from a signal handler.
process.on('exit', () => {
  killAllStarted();
  deleteNamespaces();
});
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
