// `make soak`: guestnet watch under load, in throwaway namespaces (root).
//  1. event sources: wake-up latency of netlink, ip monitor and polling;
//  2. hotplug latency: link appears -> address configured, per configuration,
//     both instants stamped by the kernel-side `ip -ts monitor`;
//  3. soak: thousands of add/remove cycles, the watcher's VmRSS sampled;
//  4. idle: the same watcher's CPU time over a quiet stretch;
//  5. table: `nft flush ruleset` under a provider's watcher -> its table back.
// Flags: --cycles N (3000), --latency N (100), --idle S (30), --only events|latency|soak|table.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  BUN, busyboxIp, CLOCK_TICKS_PER_SECOND, cpuTicks, GUESTNET, ms, Monitor, Ns, ROOT, rssKiB, sleep, stats,
} from './soak.lib';

interface Flags {
  readonly cycles: number;
  readonly latency: number;
  readonly idle: number;
  readonly only?: string;
}

function parseFlags(argv: readonly string[]): Flags {
  const value = (name: string, dflt: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const only = argv.indexOf('--only');
  return { cycles: value('cycles', 3000), latency: value('latency', 100), idle: value('idle', 30), ...(only >= 0 ? { only: argv[only + 1] } : {}) };
}

const hex = (n: number) => n.toString(16).padStart(2, '0');
/** Link sN: MAC 0a:b3:ec:00:PP:QQ from N, so every cycle gets a fresh address. */
const mac = (n: number) => `0a:b3:ec:00:${hex((n >> 8) & 0x7f)}:${hex(n & 0xff)}`;

/** A watcher in `ns`; resolves once it reported readiness on fd 3. Counts error lines instead of keeping stderr. */
async function startWatcher(ns: Ns, args: readonly string[]): Promise<{ child: ChildProcess; errors: () => string[] }> {
  const child = spawn('ip', ['netns', 'exec', ns.name, GUESTNET, 'watch', '--notify-fd', '3', ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const errors: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    for (const line of d.split('\n')) if (/error/.test(line) && errors.length < 20) errors.push(line);
  });
  await new Promise<void>((resolve, reject) => {
    child.stdio[3]?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`watcher exited with ${code}`)));
  });
  return { child, errors: () => errors };
}

async function stopWatcher(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

/** Namespaces for one measurement, deleted whatever happens. */
async function withNamespaces<T>(tag: string, body: (ns: Ns, peer: Ns) => Promise<T>): Promise<T> {
  const ns = new Ns(tag, 0);
  const peer = new Ns(`${tag}p`, 1);
  try {
    return await body(ns, peer);
  } finally {
    ns.delete();
    peer.delete();
  }
}

async function eventSources(flags: Flags): Promise<void> {
  await withNamespaces('ev', async (ns) => {
    const child = ns.spawn(BUN, ['run', `${ROOT}/bench/soak.events.ts`, String(Math.min(flags.latency, 50))]);
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
    await new Promise((resolve) => child.once('exit', resolve));
  });
}

/** A provider's watcher per configuration; soak.table.ts flushes the ruleset `latency` times (at most 50) under it. */
async function tableRestore(flags: Flags): Promise<void> {
  for (const [label, args] of [['netlink backend', []], ['iproute2 + nft backend', ['--backend', 'ip']]] as const) {
    await withNamespaces('tbl', async (ns, peer) => {
      ns.sh(`ip link add p0 address 0a:b3:ec:80:00:05 type veth peer name c0 netns ${peer.name}`);
      const { child, errors } = await startWatcher(ns, args);
      try {
        process.stdout.write(`${label.padEnd(24)} `);
        const bench = ns.spawn(BUN, ['run', `${ROOT}/bench/soak.table.ts`, String(Math.min(flags.latency, 50))]);
        bench.stdout?.pipe(process.stdout);
        bench.stderr?.pipe(process.stderr);
        await new Promise((resolve) => bench.once('exit', resolve));
      } finally {
        const code = await stopWatcher(child);
        if (code !== 0 || errors().length > 0) console.log(`  ${label}: exit ${code}, errors: ${errors().join(' | ')}`);
      }
    });
  }
}

/**
 * Adds links one at a time; each one's latency is its address event minus
 * its link event. A random pause up to `jitterMs` first, so a poll's phase
 * does not line up with the additions.
 */
async function hotplugLatency(label: string, args: readonly string[], events: number, jitterMs = 10): Promise<void> {
  await withNamespaces('lat', async (ns, peer) => {
    const monitor = new Monitor(ns);
    await monitor.ready(ns);
    const { child, errors } = await startWatcher(ns, args);
    const samples: number[] = [];
    try {
      for (let n = 1; n <= events; n++) {
        const name = `h${n}`;
        await sleep(Math.random() * jitterMs);
        const appeared = monitor.next((e) => e.kind === 'link' && !e.deleted && e.ifname === name);
        const configured = monitor.next((e) => e.kind === 'addr' && !e.deleted && e.ifname === name);
        ns.sh(`ip link add ${name} address ${mac(n)} type veth peer name p${n} netns ${peer.name}`);
        const [a, c] = await Promise.all([appeared, configured]);
        samples.push((c.t - a.t) * 1000);
        ns.sh(`ip link del ${name}`);
      }
    } finally {
      const code = await stopWatcher(child);
      monitor.stop();
      if (code !== 0 || errors().length > 0) console.log(`  ${label}: exit ${code}, errors: ${errors().join(' | ')}`);
    }
    const s = stats(samples);
    console.log(`${label.padEnd(44)} median ${ms(s.median)}  p90 ${ms(s.p90)}  worst ${ms(s.worst)}  (n=${s.n})`);
  });
}

/** Runs `ip` commands in one process, so the driver is not the bottleneck. */
function ipBatch(ns: Ns, commands: readonly string[]): void {
  ns.sh(`ip -batch - <<'EOF'\n${commands.join('\n')}\nEOF`);
}

/** Rounds of `batch` links added at once, awaited configured, removed at once; RSS sampled as it goes. */
async function soakAndIdle(flags: Flags): Promise<void> {
  const batch = 10;
  await withNamespaces('soak', async (ns, peer) => {
    const monitor = new Monitor(ns);
    await monitor.ready(ns);
    const { child, errors } = await startWatcher(ns, []);
    const pid = child.pid ?? 0;
    try {
      const t0 = Date.now();
      console.log(`soak: ${flags.cycles} add/remove cycles in rounds of ${batch}; watcher pid ${pid}`);
      console.log(`  cycles      0  VmRSS ${rssKiB(pid)} KiB (just after the first apply)`);
      for (let done = 0; done < flags.cycles; done += batch) {
        const ids = Array.from({ length: batch }, (_, i) => done + i + 1);
        const left = new Set(ids.map((n) => `s${n % 1000}`));
        const all = monitor.next((e) => e.kind === 'addr' && !e.deleted && left.delete(e.ifname) && left.size === 0, 20_000);
        ipBatch(ns, ids.map((n) => `link add s${n % 1000} address ${mac(n)} type veth peer name p${n % 1000} netns ${peer.name}`));
        await all;
        ipBatch(ns, ids.map((n) => `link del s${n % 1000}`));
        if ((done + batch) % 500 === 0) console.log(`  cycles ${String(done + batch).padStart(6)}  VmRSS ${rssKiB(pid)} KiB`);
      }
      console.log(`  ${flags.cycles} cycles in ${((Date.now() - t0) / 1000).toFixed(1)} s; error lines: ${errors().length}`);
      await sleep(1000);
      const leftovers = ns.sh('ip -4 -o addr show; ip -4 route show').split('\n').filter((l) => /100\.64\.|169\.254\./.test(l));
      console.log(`  leftover addresses/routes after the last removal: ${leftovers.length}`);
      await idleCpu(pid, flags.idle);
    } finally {
      const code = await stopWatcher(child);
      monitor.stop();
      console.log(`  SIGTERM -> exit ${code}`);
    }
  });
}

async function idleCpu(pid: number, seconds: number): Promise<void> {
  const before = cpuTicks(pid);
  await sleep(seconds * 1000);
  const used = (cpuTicks(pid) - before) / CLOCK_TICKS_PER_SECOND;
  console.log(`idle: ${(used * 1000).toFixed(0)} ms of CPU in ${seconds} s (${((used / seconds) * 100).toFixed(3)} %); VmRSS ${rssKiB(pid)} KiB`);
}

async function main(): Promise<void> {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
  const flags = parseFlags(process.argv.slice(2));
  const run = (part: string) => flags.only === undefined || flags.only === part;
  if (run('events')) await eventSources(flags);
  if (run('latency')) {
    console.log(`\nhotplug latency: link appears -> address configured, ${flags.latency} links one at a time`);
    const bb = busyboxIp();
    try {
      await hotplugLatency('default (netlink events, netlink backend)', [], flags.latency);
      await hotplugLatency('netlink events, iproute2 backend', ['--events', 'netlink', '--backend', 'ip'], flags.latency);
      await hotplugLatency('ip monitor events, iproute2 backend', ['--events', 'ip-monitor', '--backend', 'ip'], flags.latency);
      await hotplugLatency('poll 250 ms, busybox ip (no FFI, no iproute2)', ['--events', 'poll', '--backend', 'ip', '--ip-binary', bb.ip], flags.latency, 250);
    } finally {
      bb.cleanup();
    }
  }
  if (run('soak')) {
    console.log('');
    await soakAndIdle(flags);
  }
  if (run('table')) {
    console.log(`\ntable restore: nft flush ruleset under a provider's watcher, ${Math.min(flags.latency, 50)} times`);
    await tableRestore(flags);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
