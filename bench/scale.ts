// Hotplug and apply at thousands of links (issue: constant-cost hotplug).
//   bun run bench/scale.ts [--sizes 8,1024,4096] [--events 20]
// Per size N: a namespace with N provider links (peers in a second one,
// built with one `ip -batch`), then
//  - boot apply: `guestnet apply` once (wall ms, peak RSS from
//    /usr/bin/time), and the `ip -batch` floor doing the same changes;
//  - hotplug: `guestnet watch` running, one more link added at a time;
//    one `ip -ts monitor` stamps its RTM_NEWLINK and the route guestnet
//    adds as it receives them: "link exists" to "configured";
//  - the watcher's VmRSS once the N links are configured.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const GUESTNET = resolve(__dirname, '../dist/guestnet');
const arg = (flag: string, def: string): string => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : def;
};
const SIZES = arg('--sizes', '8,1024,4096').split(',').map(Number);
const EVENTS = Number(arg('--events', '20'));
const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const mac = (i: number) => `0a:b3:ec:80:${hex2(i >> 8)}:${hex2(i & 255)}`;
const client = (i: number) => `100.64.${i >> 8}.${i & 255}`;

function sh(cmd: string, input?: string): string {
  const r = spawnSync('sh', ['-c', cmd], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}

function links(ns: string, peer: string, from: number, count: number): void {
  const lines = Array.from({ length: count }, (_, k) => from + k)
    .map((i) => `link add p${i} address ${mac(i)} type veth peer name h${i} netns ${peer}`);
  sh(`ip -n ${ns} -batch -`, lines.join('\n') + '\n');
}

/** What `ip -batch` takes for the same changes guestnet makes (up, address, host route). */
function floorMs(ns: string, n: number): number {
  const lines = Array.from({ length: n }, (_, i) => [
    `link set p${i} up`, `addr replace 169.254.0.1/32 dev p${i}`, `route replace ${client(i)}/32 dev p${i} proto 179`,
  ]).flat();
  const t0 = performance.now();
  sh(`ip -n ${ns} -batch -`, lines.join('\n') + '\n');
  return performance.now() - t0;
}

function flush(ns: string): void {
  sh(`ip -n ${ns} -4 route flush proto 179; ip -n ${ns} -4 addr flush to 169.254.0.1/32; true`);
}

/** One `guestnet apply` of every link: wall ms and peak RSS (KiB). */
function applyOnce(ns: string): { ms: number; rssKiB: number } {
  const t0 = performance.now();
  const r = spawnSync('ip', ['netns', 'exec', ns, '/usr/bin/time', '-f', '%M', GUESTNET, 'apply'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  const lines = r.stderr.trim().split('\n');
  return { ms, rssKiB: Number(lines[lines.length - 1]) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function routeCount(ns: string): number {
  return sh(`ip -n ${ns} -4 route show proto 179`).split('\n').filter(Boolean).length;
}

/** `ip -ts monitor` receive times from the RTM_NEWLINK of each added link to its route; and the watcher's VmRSS. */
async function hotplug(ns: string, peer: string, n: number): Promise<{ ms: number[]; rssKiB: number }> {
  // Its log goes to a file: an unread pipe would fill and stall it.
  const logFile = join(tmpdir(), `gn-scale-watch-${n}.log`);
  const log = openSync(logFile, 'w');
  const watch = spawn('ip', ['netns', 'exec', ns, GUESTNET, 'watch', '--verbose'], { stdio: ['ignore', 'ignore', log] });
  closeSync(log);
  let mon: ReturnType<typeof spawn> | undefined;
  let text = '';
  let rssKiB = 0;
  try {
    for (let t = Date.now(); routeCount(ns) < n; await sleep(50)) {
      if (Date.now() - t > 120_000) throw new Error('watch did not configure the links');
    }
    await sleep(500);
    rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${watch.pid}/status`, 'utf8'))?.[1]);
    mon = spawn('ip', ['-n', ns, '-ts', '-o', 'monitor', 'link', 'route']);
    mon.stdout?.setEncoding('utf8').on('data', (d: string) => (text += d));
    await sleep(300);
    for (let k = 0; k < EVENTS; k++) {
      const i = n + 10 + k;
      links(ns, peer, i, 1);
      for (let t = Date.now(); !text.includes(`${client(i)} dev p${i}`); await sleep(5)) {
        if (Date.now() - t > 5000) throw new Error(`p${i} not configured (watch log: ${logFile})`);
      }
      await sleep(50);
    }
  } finally {
    mon?.kill();
    watch.kill('SIGTERM');
  }
  // Lines read "[2026-11-29T11:55:20.664345] 3: p5@h5: ..." (ip's receive time).
  const stamp = (re: RegExp): number => {
    for (const line of text.split('\n')) {
      const m = /^\[[\d-]+T(\d+):(\d+):(\d+)\.(\d+)\] (.*)$/.exec(line);
      if (m && re.test(m[5])) return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]) / 1000;
    }
    throw new Error(`no line for ${re}`);
  };
  const ms = Array.from({ length: EVENTS }, (_, k) => n + 10 + k).map(
    (i) => stamp(new RegExp(`^${client(i).replace(/\./g, '\\.')} dev p${i} `)) - stamp(new RegExp(`^\\d+: p${i}@`)),
  );
  return { ms, rssKiB };
}

async function main(): Promise<void> {
  for (const n of SIZES) await measure(n);
}

async function measure(n: number): Promise<void> {
  const ns = `gn-scale-${process.pid}-${n}`;
  const peer = `${ns}-peer`;
  sh(`ip netns add ${ns}; ip netns add ${peer}`);
  try {
    links(ns, peer, 0, n);
    const floor = floorMs(ns, n);
    flush(ns);
    const applies = [0, 1, 2].map(() => {
      const r = applyOnce(ns);
      flush(ns);
      return r;
    });
    const hp = await hotplug(ns, peer, n);
    console.log(JSON.stringify({
      n,
      floorMs: +floor.toFixed(1),
      applyMs: +median(applies.map((a) => a.ms)).toFixed(1),
      applyPeakRssMiB: +(Math.max(...applies.map((a) => a.rssKiB)) / 1024).toFixed(1),
      watchRssMiB: +(hp.rssKiB / 1024).toFixed(1),
      hotplugMedianMs: +median(hp.ms).toFixed(2),
      hotplugMs: hp.ms.map((x) => +x.toFixed(2)),
    }));
  } finally {
    sh(`ip netns del ${ns}; ip netns del ${peer}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
