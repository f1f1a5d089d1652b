import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { floorLines, GUESTNET, ROOT, sh, type BenchLink } from './common';
import { referenceCmd, type RunRequest, type Runner } from './procs';
import type { ProgramKind, Variant } from './results';

// The programs under test and how to start them: guestnet variants, the
// reference script (busybox `ip`/`awk`, as in Spectrum's images) and the
// one-`ip -batch` floor; plus the scratch directory they need.

/** A scratch directory: busybox applets for the reference script, and files the programs read. */
export interface Workspace {
  readonly dir: string;
  readonly bin: string;
  readonly work: string;
  /** PATH with busybox's `ip`, `awk` and `sh` first. */
  readonly bbEnv: Record<string, string>;
  /** The runtime floor: an empty program compiled exactly as dist/guestnet is. */
  readonly empty: string;
}

/** Programs with more links than this run without the reference (over 5 s a run at 1,024). */
export const REFERENCE_MAX_N = 256;

export function createWorkspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'gnbench-'));
  const bin = join(dir, 'bin');
  const work = join(dir, 'work');
  mkdirSync(bin);
  mkdirSync(work);
  const busybox = sh('sh', ['-c', 'command -v busybox']).trim();
  for (const applet of ['ip', 'awk', 'sh']) symlinkSync(busybox, join(bin, applet));
  const empty = join(dir, 'empty');
  sh(process.execPath, [join(ROOT, 'agent/build/compile.ts'), '--entry', join(ROOT, 'bench/empty.ts'), '--outfile', empty]);
  return { dir, bin, work, empty, bbEnv: { PATH: `${bin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` } };
}

/**
 * Drops the executables' cached pages, so each is read from disk as a booted
 * VM reads it: a file written a moment ago (by `make build`) maps ~6 MiB
 * more into a process (peak RSS of `guestnet apply` with no links 33.1 vs
 * 26.4 MiB), which would make the figures depend on when the build ran.
 */
export function readFromDisk(files: readonly string[]): void {
  for (const file of new Set(files)) {
    sh('sync', [file]);
    sh('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  }
}

export function removeWorkspace(ws: Workspace): void {
  rmSync(ws.dir, { recursive: true, force: true });
}

/** `--variant SPEC`: a preset name, or LABEL=[BINARY] ARGS... */
export function parseVariant(spec: string, ws: Workspace): Variant {
  const presets: Record<string, string[]> = {
    auto: ['--backend', 'auto'],
    ip: ['--backend', 'ip'],
    netlink: ['--backend', 'netlink'],
    busybox: ['--backend', 'ip', '--ip-binary', join(ws.bin, 'ip')],
  };
  if (presets[spec]) return { label: spec, bin: GUESTNET, args: presets[spec], available: true };
  const m = /^([\w.-]+)=(.*)$/.exec(spec);
  if (!m) throw new Error(`--variant ${spec}: not a preset (${Object.keys(presets).join(', ')}) nor LABEL=ARGS`);
  const words = m[2].split(/\s+/).filter(Boolean);
  const bin = words.length > 0 && !words[0].startsWith('-') ? resolve(words.shift()!) : GUESTNET;
  return { label: m[1], bin, args: words, available: true };
}

export const applyCmd = (v: Variant, ifnames: string[] = []): string[] => [v.bin, 'apply', ...v.args, ...ifnames];

/** One column of the boot workload. */
export interface Program {
  readonly key: string;
  readonly label: string;
  readonly kind: ProgramKind;
  /** Commands for these links (the floor writes its batch file here, before the timed region). */
  readonly cmds: (links: readonly BenchLink[]) => string[][];
  readonly env?: Record<string, string>;
  /** Whether the program switches on ip_forward for providers (the floor leaves it: a file write, not ip). */
  readonly forwarding: boolean;
}

/** The programs of the boot workload at N links. */
export function programs(variants: readonly Variant[], ws: Workspace, n: number): Program[] {
  const batch = join(ws.work, 'floor.batch');
  const reference: Program = { key: 'reference', label: 'reference (reference.sh per link)', kind: 'reference', forwarding: true, env: ws.bbEnv,
    cmds: (links) => links.map((l) => referenceCmd(l.name)) };
  return [
    { key: 'floor', label: 'floor (one ip -batch)', kind: 'floor', forwarding: false,
      cmds: (links) => { writeFileSync(batch, links.flatMap(floorLines).join('\n') + '\n'); return [['ip', '-batch', batch]]; } },
    ...(n <= REFERENCE_MAX_N ? [reference] : []),
    ...variants.filter((v) => v.available).map((v): Program => ({
      key: `guestnet:${v.label}`, label: `guestnet ${v.label}`, kind: 'guestnet', forwarding: true, cmds: () => [applyCmd(v)],
    })),
  ];
}

/**
 * Peak RSS (KiB) of the largest of `req.cmds`, from one run under GNU time:
 * the runner's own numbers are useless for that, since bun spawns with vfork
 * and the child's high-water mark starts at the runner's size.
 */
export async function peakRss(runner: Runner, ws: Workspace, req: RunRequest): Promise<number> {
  const file = join(ws.work, 'time.txt');
  await runner.run({ ...req, cmds: req.cmds.map((c) => ['/usr/bin/time', '-a', '-o', file, '-f', '%M', ...c]) });
  const kib = readFileSync(file, 'utf8').split('\n').map(Number).filter((v) => v > 0);
  rmSync(file, { force: true });
  return Math.max(...kib);
}
