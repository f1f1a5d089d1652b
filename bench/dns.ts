import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNamespace, cpuTicks, clockTicks, deleteNamespace, GATEWAY, GUESTNET, log, percentile, rotate, sh, sleep } from './common';
import { spawnTracked, stop } from './procs';
import type { DnsResults, DnsRow } from './results';

// `guestnet dns` against dnsmasq as the netvm's forwarder, side by
// side in one run: dnsperf in a client namespace asks 169.254.0.1, the
// forwarders in the netvm namespace relay to a dnsmasq on the upstream host
// that answers every name from a hosts file. Lanes take turns, a round at a
// time. "distinct" cycles through many names (a cache never hits in the
// first pass and rarely after); "hot" asks a few names again and again,
// where a small cache answers most of it without the upstream (the
// upstream gives its names a TTL of 300 s, so they may be cached).

const UPSTREAM = '203.0.113.2';
const UPLINK = '203.0.113.1';
const CLIENT = '100.64.1.2';
const NAMES = { distinct: 20_000, hot: 50 } as const;
type QueryFile = keyof typeof NAMES;

interface Server {
  readonly label: string;
  readonly port: number;
  readonly cmd: (dir: string) => string[];
}

const dnsmasqForwarder = (port: number, cache: number) => (dir: string) => [
  'dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', `--server=${UPSTREAM}`, `--cache-size=${cache}`,
  `--listen-address=${GATEWAY}`, `--port=${port}`, '--bind-interfaces', '--user=root', `--pid-file=${join(dir, `fwd-${port}.pid`)}`,
];

const SERVERS: readonly Server[] = [
  { label: 'guestnet dns', port: 53, cmd: (dir) => [GUESTNET, 'dns', '--upstream', UPSTREAM, '--rate-limit', '0', '--state-dir', join(dir, 'state')] },
  { label: 'dnsmasq --cache-size=0', port: 5353, cmd: dnsmasqForwarder(5353, 0) },
  { label: 'dnsmasq --cache-size=150 (its default)', port: 5354, cmd: dnsmasqForwarder(5354, 150) },
];

interface Lane {
  readonly server: Server;
  readonly queries: QueryFile;
  readonly rate?: number;
}

/**
 * The latency lanes: a fixed offered load well below either forwarder's
 * capacity, where a percentile is the forwarder's own delay rather than the
 * queue that 100 outstanding queries build at saturation.
 */
const FIXED_RATE = 10_000;

function topology(dir: string): { netvm: string; client: string; upstream: string } {
  const [netvm, client, upstream] = ['dnsvm', 'dnscl', 'dnsup'].map(addNamespace);
  sh('ip', ['-n', netvm, 'link', 'add', 'pl', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
  sh('ip', ['-n', netvm, 'link', 'add', 'ul', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', upstream]);
  const script = (ns: string, lines: string[]) => sh('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
  script(netvm, [`addr add ${GATEWAY}/32 dev pl`, 'link set pl up', `route add ${CLIENT}/32 dev pl`, `addr add ${UPLINK}/24 dev ul`, 'link set ul up']);
  script(client, [`addr add ${CLIENT}/32 dev eth0`, 'link set eth0 up', `route add ${GATEWAY}/32 dev eth0`]);
  script(upstream, [`addr add ${UPSTREAM}/24 dev eth0`, 'link set eth0 up']);
  const hosts = Array.from({ length: NAMES.distinct }, (_, i) => `198.51.100.${1 + (i % 250)} n${i}.bench.test`);
  writeFileSync(join(dir, 'hosts'), hosts.join('\n') + '\n');
  for (const q of Object.keys(NAMES) as QueryFile[]) {
    writeFileSync(join(dir, `${q}.queries`), Array.from({ length: NAMES[q] }, (_, i) => `n${i}.bench.test A`).join('\n') + '\n');
  }
  return { netvm, client, upstream };
}

/** VmHWM of a process, KiB. */
const peakRssKiB = (pid: number): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/** One dnsperf run: per-query latencies (ms) from its -v lines, its qps, and the queries lost. */
async function dnsperf(client: string, port: number, file: string, seconds: number, rate?: number): Promise<{ qps: number; ms: number[]; lost: number }> {
  const limit = rate ? ['-Q', String(rate)] : [];
  const proc = spawnTracked(['ip', 'netns', 'exec', client, 'dnsperf', '-s', GATEWAY, '-p', String(port), '-d', file, '-l', String(seconds), '-v', '-t', '2', ...limit], {
    stdout: 'pipe', stderr: 'ignore',
  });
  const out = await new Response(proc.stdout as ReadableStream).text();
  await proc.exited;
  const ms = [...out.matchAll(/^> \w+ \S+ \S+ ([\d.]+)$/gm)].map((m) => Number(m[1]) * 1000);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  return { qps, ms, lost };
}

/** Every lane for `rounds` rounds of `seconds` each, interleaved. */
export async function dnsWorkload(quick: boolean): Promise<DnsResults> {
  const dir = mkdtempSync(join(tmpdir(), 'gnbench-dns-'));
  const ns = topology(dir);
  const upstream = spawnTracked(['ip', 'netns', 'exec', ns.upstream, 'dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts',
    `--addn-hosts=${join(dir, 'hosts')}`, '--local=/bench.test/', '--local-ttl=300', `--listen-address=${UPSTREAM}`, '--bind-interfaces', '--user=root'], { stdout: 'ignore', stderr: 'ignore' });
  const servers = SERVERS.map((s) => ({ s, proc: spawnTracked(['ip', 'netns', 'exec', ns.netvm, ...s.cmd(dir)], { stdout: 'ignore', stderr: 'ignore' }) }));
  const lanes: Lane[] = [
    ...(['distinct', 'hot'] as const).flatMap((queries) => SERVERS.map((server) => ({ server, queries }))),
    ...SERVERS.slice(0, 2).map((server) => ({ server, queries: 'distinct' as const, rate: FIXED_RATE })),
  ];
  const rows: DnsRow[] = lanes.map((l) => ({
    server: l.server.label, queries: l.queries, names: NAMES[l.queries], rate: l.rate, qps: [], p50Ms: NaN, p99Ms: NaN, answered: 0, lost: 0, cpuS: 0,
  }));
  const latencies: number[][] = lanes.map(() => []);
  const [rounds, seconds] = quick ? [1, 3] : [3, 10];
  try {
    await sleep(1000); // all listening
    for (let r = 0; r < rounds; r++) {
      for (const i of rotate(lanes.map((_, i) => i), r)) {
        const { server, queries, rate } = lanes[i];
        const pid = servers[SERVERS.indexOf(server)].proc.pid;
        const cpu0 = cpuTicks(pid);
        const run = await dnsperf(ns.client, server.port, join(dir, `${queries}.queries`), seconds, rate);
        rows[i].cpuS += (cpuTicks(pid) - cpu0) / clockTicks();
        rows[i].qps.push(run.qps);
        for (const ms of run.ms) latencies[i].push(ms);
        rows[i].lost += run.lost;
        log(`dns ${server.label} ${queries}${rate ? ` at ${rate} q/s offered` : ''}: ${run.qps.toFixed(0)} q/s, p99 ${percentile(run.ms, 99).toFixed(2)} ms`);
      }
    }
    for (const [i, l] of lanes.entries()) rows[i].rssKiB = peakRssKiB(servers[SERVERS.indexOf(l.server)].proc.pid);
  } finally {
    for (const { proc } of servers) await stop(proc);
    await stop(upstream);
    for (const n of Object.values(ns)) deleteNamespace(n);
    rmSync(dir, { recursive: true, force: true });
  }
  // Latencies are kept as percentiles only: the raw samples would make the JSON megabytes.
  for (const [i, ms] of latencies.entries()) Object.assign(rows[i], { p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), answered: ms.length });
  return { date: new Date().toISOString(), seconds, rounds, rows };
}
