import { spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { relative } from 'node:path';
import type { Subprocess } from 'bun';
import { addLine, addNamespace, bootLinks, firstLine, floorLines, GUESTNET, ROOT, sh, type BenchLink } from './common';
import { spawnTracked } from './procs';
import type { Variant } from './results';

// `guestnet watch` as the hotplug and idle workloads run it: probed first,
// then started in a namespace that already holds links.

/** `guestnet watch --help` must exit 0 and describe `watch` (yargs answers any --help with the global help). */
export function watchAvailable(bin = GUESTNET): string | undefined {
  const r = spawnSync(bin, ['watch', '--help'], { encoding: 'utf8', timeout: 10_000 });
  const name = relative(ROOT, bin).startsWith('..') ? bin : relative(ROOT, bin);
  if (r.status !== 0) return `${name} watch --help exits ${r.status}: ${firstLine(r.stderr)}`;
  return /^guestnet watch\b/m.test(r.stdout) ? undefined : `no watch command in ${name} yet`;
}

/** A namespace with `base` links; with `configure`, also the floor's configuration and forwarding on. */
export function configuredNs(tag: string, base: number, peerNs: string, configure: boolean): { ns: string; links: BenchLink[] } {
  const ns = addNamespace(tag);
  const links = bootLinks(base, `p${ns.slice(ns.lastIndexOf('-') + 1).replace(/\D/g, '')}x`);
  const lines = links.map((l) => addLine(l, peerNs));
  if (configure) lines.push(...links.flatMap(floorLines));
  if (lines.length > 0) sh('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
  if (configure) sh('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
  return { ns, links };
}

/** Starts `guestnet watch` inside `ns`, stdout and stderr to `logFile`. */
export function startWatch(v: Variant, ns: string, logFile: string): Subprocess {
  const out = openSync(logFile, 'w');
  return spawnTracked(['ip', 'netns', 'exec', ns, v.bin, 'watch', ...v.args], { stdin: 'ignore', stdout: out, stderr: out });
}
