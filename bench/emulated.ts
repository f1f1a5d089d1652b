import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BootNs } from './boot';
import { cpuOutsideUs } from './machine';
import { verdict } from './checks';
import { benchLink, firstLine, GUESTNET, log, median, ROOT, rotate, sh, type BenchLink } from './common';
import { Runner } from './procs';
import type { Workspace } from './programs';
import type { EmulatedResults, EmulatedRow } from './results';

// The emulated lane: the aarch64 build (`make build ARCH=arm64`) run by
// qemu-user on this machine, beside this machine's own build, for start-up
// and `apply`. It shows that the aarch64 executable starts and configures
// links, and what emulation costs; it says nothing about aarch64 hardware,
// so the report never divides one column by the other.
// Client links only: a provider's uplink table is nf_tables over netlink,
// which qemu-user does not translate (NETLINK_NETFILTER sockets fail).

const ARM64 = resolve(ROOT, 'dist/arm64/guestnet');
const SYSROOT = resolve(ROOT, 'build/sysroot-arm64/root');
const QEMU = 'qemu-aarch64-static';
const LINKS = 8;

/** The aarch64 program `argv` as qemu-user runs it, its libraries from the sysroot. */
const emulate = (argv: readonly string[]): string[] => [QEMU, '-L', SYSROOT, ...argv];

interface Command {
  readonly label: string;
  readonly native: string[];
  readonly arm64: string[];
  readonly links: readonly BenchLink[];
}

function unavailable(): string | undefined {
  if (!existsSync(ARM64)) return `${ARM64} is missing: make build ARCH=arm64`;
  if (!existsSync(SYSROOT)) return `${SYSROOT} is missing: make images ARCH=arm64`;
  if (sh('sh', ['-c', `command -v ${QEMU} || true`]).trim() === '') return `${QEMU} not found (apt-get install qemu-user-static)`;
  return undefined;
}

function commands(ws: Workspace): Command[] {
  const emptyArm64 = join(ws.dir, 'empty-arm64');
  sh(process.execPath, [join(ROOT, 'agent/build/compile.ts'), '--target', 'bun-linux-arm64', '--entry', join(ROOT, 'bench/empty.ts'), '--outfile', emptyArm64]);
  const clients = Array.from({ length: LINKS }, (_, i) => benchLink(`e${i}`, `c${i}`, 1, i, 'client'));
  return [
    { label: 'runtime floor (empty program, built as guestnet is)', native: [ws.empty], arm64: emulate([emptyArm64]), links: [] },
    { label: 'guestnet --version', native: [GUESTNET, '--version'], arm64: emulate([ARM64, '--version']), links: [] },
    { label: 'guestnet apply (no links)', native: [GUESTNET, 'apply'], arm64: emulate([ARM64, 'apply']), links: [] },
    { label: `guestnet apply (${LINKS} client links)`, native: [GUESTNET, 'apply'], arm64: emulate([ARM64, 'apply']), links: clients },
  ];
}

/** Each command once per build, both checked: exit codes, and the links configured as SPEC §3 says. */
async function check(t: BootNs, runner: Runner, cmds: readonly Command[]): Promise<void> {
  for (const c of cmds) {
    for (const argv of [c.native, c.arm64]) {
      t.reset(c.links);
      const r = await runner.run({ cmds: [argv], capture: true });
      const why = c.links.length > 0 ? verdict(r.codes, r.stderr, t.ns, c.links, false) : r.codes[0] !== 0 ? `exit ${r.codes[0]}` : undefined;
      if (why) throw new Error(`emulated lane: ${argv.join(' ')}: ${why}`);
    }
  }
}

/** Every command natively and emulated, interleaved round by round; the first round warms caches. */
export async function emulatedWorkload(ws: Workspace, quick: boolean): Promise<EmulatedResults> {
  const date = new Date().toISOString();
  const reason = unavailable();
  if (reason) return { date, available: false, reason, rows: [] };
  const cmds = commands(ws);
  const rows: EmulatedRow[] = cmds.map((c) => ({ label: c.label, native: [], emulated: [], errors: 0 }));
  const cpu = cpuOutsideUs();
  const t = new BootNs();
  const runner = new Runner(t.ns);
  try {
    await check(t, runner, cmds);
    const reps = quick ? 3 : 10;
    for (let r = 0; r <= reps; r++) {
      for (const i of rotate(cmds.map((_, i) => i), r)) {
        for (const [argv, samples] of [[cmds[i].native, rows[i].native], [cmds[i].arm64, rows[i].emulated]] as const) {
          t.reset(cmds[i].links);
          const reply = await runner.run({ cmds: [argv] });
          if (r === 0) continue;
          samples.push(reply.ms);
          if (reply.codes.some((code) => code !== 0)) rows[i].errors++;
        }
      }
    }
  } finally {
    await runner.close();
    t.close();
  }
  for (const row of rows) log(`emulated ${row.label}: native ${median(row.native).toFixed(2)} ms, aarch64 under ${QEMU} ${median(row.emulated).toFixed(0)} ms`);
  const built = `dist/arm64/guestnet built ${statSync(ARM64).mtime.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return { date, available: true, qemu: firstLine(sh(QEMU, ['--version'])), build: built, othersPct: cpu.othersPct(), rows };
}
