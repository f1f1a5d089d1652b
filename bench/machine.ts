import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { clockTicks, cpuTicks, firstLine, GUESTNET, ROOT, sleep } from './common';
import type { Machine } from './results';

// What the numbers were measured on, and how busy the machine was with
// other work meanwhile (the report warns when that makes them noisy).

export const built = (): string => `dist/guestnet built ${statSync(GUESTNET).mtime.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Busy CPU ticks of the whole machine (/proc/stat) and of this process and its reaped children. */
function ticks(): { all: number; own: number } {
  // user nice system idle iowait irq softirq steal: all but idle and iowait
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { all: f[0] + f[1] + f[2] + f[5] + f[6] + f[7], own: cpuTicks('self') };
}

/**
 * How busy the machine is with work that is not ours, as a share of all
 * CPUs: noise for every number here. Our children count once reaped, so
 * measure after they have all exited. Kernel threads (namespace teardown)
 * count as "not ours" even when the benchmark caused them.
 */
export function cpuOutsideUs(): { othersPct: () => number } {
  const a = ticks();
  const t0 = Date.now();
  const cores = cpus().length;
  const hz = clockTicks();
  return {
    othersPct: () => {
      const b = ticks();
      const wallTicks = ((Date.now() - t0) / 1000) * hz * cores;
      return (100 * (b.all - a.all - (b.own - a.own))) / wallTicks;
    },
  };
}

/** The share of the machine other work used in the 2 s before the run. */
export async function backgroundBefore(): Promise<number> {
  const probe = cpuOutsideUs();
  await sleep(2000);
  return probe.othersPct();
}

export function machine(): Machine {
  const out = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '';
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const dirty = out('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : '';
  return {
    nproc: Number(out('nproc', [])) || cpus().length,
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    kernel: release(),
    memGiB: Math.round(totalmem() / 2 ** 30),
    background: { beforePct: NaN, duringPct: NaN },
    guestnet: `${out(GUESTNET, ['--version'])}, ${built()}`,
    commit: `${out('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])}${dirty}`,
    bun: Bun.version,
    iproute2: out('ip', ['-V']).replace(/^ip utility, /, ''),
    busybox: firstLine(out('busybox', [])).replace(/ multi-call binary\.?$/, ''),
  };
}
