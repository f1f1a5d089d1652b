import { addLine, addNamespace, bootLinks, deleteNamespace, GUESTNET, linkCount, log, median, rotate, sh, type BenchLink } from './common';
import { verdict } from './checks';
import { Runner } from './procs';
import { applyCmd, peakRss, programs, type Program, type Workspace } from './programs';
import type { BootRow, StartupRow, Variant } from './results';

// The boot workload: N unconfigured links exist, one program configures
// them all. Also the start-up floors (no links), measured in the same
// namespace and runner.

/** Namespace T whose links are re-created (down, unconfigured) before every run. */
export class BootNs {
  readonly ns = addNamespace('boot');
  private peer: string | undefined;

  /** Fresh links: drop the peer namespace (all veth pairs go at once), wait, create anew. */
  reset(links: readonly BenchLink[]): void {
    if (this.peer) deleteNamespace(this.peer);
    const deadline = Date.now() + 60_000; // thousands of veth pairs take a while to go
    while (linkCount(this.ns) > 1) {
      if (Date.now() > deadline) throw new Error(`${this.ns}: old links did not go away`);
      Bun.sleepSync(2);
    }
    const peer = addNamespace('peer');
    this.peer = peer;
    if (links.length > 0) sh('ip', ['-n', this.ns, '-batch', '-'], links.map((l) => addLine(l, peer)).join('\n') + '\n');
    Bun.sleepSync(20); // let the deletion's deferred kernel work finish outside the timed region
  }

  close(): void {
    if (this.peer) deleteNamespace(this.peer);
    deleteNamespace(this.ns);
  }
}

/** Every run starts with forwarding off, so a program that forgets it is caught. */
const FORWARD_OFF: [string, string][] = [['/proc/sys/net/ipv4/ip_forward', '0\n']];

function repsFor(n: number, quick: boolean): number {
  if (quick) return 3;
  return n <= 8 ? 60 : n <= 64 ? 30 : n <= 256 ? 15 : n <= 1024 ? 5 : 3;
}

interface Bench {
  readonly t: BootNs;
  readonly runner: Runner;
  readonly ws: Workspace;
  readonly quick: boolean;
}

/** One checked run of every variant at N=8, before anything is timed; marks the broken ones n/a. */
async function checkVariants(b: Bench, variants: Variant[]): Promise<void> {
  for (const v of variants) {
    const links = bootLinks(8, 'c');
    b.t.reset(links);
    const r = await b.runner.run({ cmds: [applyCmd(v)], writes: FORWARD_OFF, capture: true });
    const why = verdict(r.codes, r.stderr, b.t.ns, links, true);
    if (why) Object.assign(v, { available: false, reason: why });
    log(`variant ${v.label}: ${why ? `n/a (${why})` : 'ok'}`);
  }
}

/** Start-up floors: no inter-guest links at all. */
async function measureStartup(b: Bench, variants: Variant[]): Promise<StartupRow[]> {
  const ok = variants.find((v) => v.available) ?? variants[0];
  const cmds: [string, string[]][] = [
    ['runtime floor (empty program, built as guestnet is)', [b.ws.empty]],
    [`guestnet apply (no links, ${ok.label})`, applyCmd(ok)],
    ['guestnet --version', [GUESTNET, '--version']],
    ['guestnet derive MAC', [GUESTNET, 'derive', '0a:b3:ec:00:a5:46']],
    ['guestnet status (no links)', [GUESTNET, 'status']],
    ['ip -batch (empty)', ['ip', '-batch', '/dev/null']],
    ['busybox sh -c :', ['busybox', 'sh', '-c', ':']],
  ];
  b.t.reset([]);
  const rows: StartupRow[] = cmds.map(([label, cmd]) => ({ label, cmd: cmd.join(' '), ms: [], rssKiB: 0 }));
  const reps = b.quick ? 3 : 30;
  for (let r = 0; r < reps + 1; r++) {
    for (const i of rotate(rows.map((_, i) => i), r)) {
      const reply = await b.runner.run({ cmds: [cmds[i][1]] });
      if (r > 0) rows[i].ms.push(reply.ms); // r = 0 warms the page cache
    }
  }
  for (const [i, row] of rows.entries()) {
    row.rssKiB = await peakRss(b.runner, b.ws, { cmds: [cmds[i][1]] });
    log(`startup ${row.label}: median ${median(row.ms).toFixed(2)} ms`);
  }
  return rows;
}

/** One checked, untimed run of each program (also warms caches); a broken floor or reference stops the bench. */
async function checkPrograms(b: Bench, progs: Program[], rows: BootRow[], links: BenchLink[]): Promise<void> {
  for (const [i, p] of progs.entries()) {
    b.t.reset(links);
    const r = await b.runner.run({ cmds: p.cmds(links), env: p.env, writes: FORWARD_OFF, capture: true });
    const why = verdict(r.codes, r.stderr, b.t.ns, links, p.forwarding);
    if (!why) continue;
    if (p.kind !== 'guestnet') throw new Error(`N=${links.length} ${p.label} is broken: ${why}`);
    Object.assign(rows[i], { ok: false, reason: why });
    log(`N=${links.length} ${p.label}: n/a (${why})`);
  }
}

/** Timed runs, interleaved: every round runs each program once, the order rotating. */
async function timedRounds(b: Bench, progs: Program[], rows: BootRow[], live: number[], links: BenchLink[]): Promise<void> {
  const reps = repsFor(links.length, b.quick);
  for (let r = 0; r < reps; r++) {
    for (const i of rotate(live, r)) {
      b.t.reset(links);
      const reply = await b.runner.run({ cmds: progs[i].cmds(links), env: progs[i].env, writes: FORWARD_OFF });
      rows[i].ms.push(reply.ms);
      rows[i].cpuMs.push(reply.cpuMs);
      if (reply.codes.some((c) => c !== 0)) rows[i].errors++;
    }
  }
}

async function measureSize(b: Bench, variants: Variant[], n: number): Promise<BootRow[]> {
  const links = bootLinks(n, 'b');
  const progs = programs(variants, b.ws, n);
  const rows = progs.map((p): BootRow => ({ n, key: p.key, label: p.label, kind: p.kind, ms: [], cpuMs: [], ok: true, errors: 0 }));
  await checkPrograms(b, progs, rows, links);
  const live = progs.map((_, i) => i).filter((i) => rows[i].ok);
  for (const i of live) {
    b.t.reset(links);
    rows[i].rssKiB = await peakRss(b.runner, b.ws, { cmds: progs[i].cmds(links), env: progs[i].env, writes: FORWARD_OFF });
  }
  await timedRounds(b, progs, rows, live, links);
  for (const row of rows) log(`N=${n} ${row.label}: ${row.ok ? `median ${median(row.ms).toFixed(2)} ms` : 'n/a'}`);
  return rows;
}

/** Marks variants that fail the N=8 check n/a, then measures start-up and every size. */
export async function bootWorkload(variants: Variant[], sizes: readonly number[], quick: boolean, ws: Workspace): Promise<{ startup: StartupRow[]; boot: BootRow[] }> {
  const t = new BootNs();
  const b: Bench = { t, runner: new Runner(t.ns), ws, quick };
  try {
    await checkVariants(b, variants);
    const startup = await measureStartup(b, variants);
    const boot: BootRow[] = [];
    for (const n of sizes) boot.push(...(await measureSize(b, variants, n)));
    return { startup, boot };
  } finally {
    await b.runner.close();
    t.close();
  }
}
