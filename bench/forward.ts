import { spawnSync } from 'node:child_process';
import { addNamespace, benchLink, deleteNamespace, log, median, sh, sleep } from './common';
import { spawnTracked, stop } from './procs';
import { applyCmd } from './programs';
import type { ForwardResults, ForwardRow, Variant } from './results';

// Forwarding throughput through a netvm: iperf3 from one client to an
// upstream host, TCP and UDP, with the netvm's firewall as `guestnet apply`
// builds it beside today's reference (masquerade only: the table below,
// loaded with `nft -f`, and no reverse-path filter), at 1 and 1,024
// provider links configured (traffic from the first). The two tables run
// back to back in pairs, first one then the other, so load on the machine
// falls on both alike; the report takes the median of the pairs' ratios.

const UPSTREAM = '203.0.113.1';
const MASQUERADE_ONLY = `table ip today {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 100.64.0.0/16 ip daddr != 100.64.0.0/16 masquerade
  }
}
`;

/** Rounds of paired runs: on a shared machine the ratio of a pair is steadier than either rate. */
const ROUNDS = 10;

type Firewall = ForwardRow['firewall'];
type Proto = ForwardRow['proto'];

interface Net {
  readonly up: string;
  readonly nv: string;
  readonly client: string;
  readonly rest: string;
}

/** Upstream host, netvm with `links` provider links, a client on the first; the netvm configured by `v`. */
function build(links: number, v: Variant): Net {
  const net = { up: addNamespace('fwup'), nv: addNamespace('fwnv'), client: addNamespace('fwcl'), rest: addNamespace('fwrest') };
  sh('ip', ['-n', net.nv, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'u0', 'netns', net.up]);
  sh('ip', ['-n', net.nv, 'addr', 'add', '203.0.113.2/24', 'dev', 'up0']);
  sh('ip', ['-n', net.nv, 'link', 'set', 'up0', 'up']);
  sh('ip', ['-n', net.up, 'addr', 'add', `${UPSTREAM}/24`, 'dev', 'u0']);
  sh('ip', ['-n', net.up, 'link', 'set', 'u0', 'up']);
  const lines = Array.from({ length: links }, (_, i) => {
    const p = benchLink(`p${i}`, `c${i}`, 1 + (i >> 8), i & 0xff, 'provider');
    const c = benchLink(`c${i}`, '', 1 + (i >> 8), i & 0xff, 'client');
    return `link add ${p.name} address ${p.mac} type veth peer name ${c.name} address ${c.mac} netns ${i === 0 ? net.client : net.rest}`;
  });
  sh('ip', ['-n', net.nv, '-batch', '-'], lines.join('\n') + '\n');
  if (links > 1) sh('ip', ['-n', net.rest, '-batch', '-'], Array.from({ length: links - 1 }, (_, i) => `link set c${i + 1} up`).join('\n') + '\n');
  sh('ip', ['netns', 'exec', net.client, ...applyCmd(v)]);
  setFirewall(net, 'guestnet', v);
  return net;
}

/** Puts the netvm's firewall in place: guestnet's (apply), or masquerade only (today). */
function setFirewall(net: Net, fw: Firewall, v: Variant): void {
  spawnSync('ip', ['netns', 'exec', net.nv, 'nft', 'delete', 'table', 'ip', 'today']);
  if (fw === 'guestnet') {
    sh('ip', ['netns', 'exec', net.nv, ...applyCmd(v)]);
    return;
  }
  for (const t of ['inet guestnet', 'ip guestnet']) spawnSync('ip', ['netns', 'exec', net.nv, 'nft', 'delete', 'table', ...t.split(' ')]);
  sh('ip', ['netns', 'exec', net.nv, 'nft', '-f', '-'], MASQUERADE_ONLY);
  sh('ip', ['netns', 'exec', net.nv, 'sysctl', '-qw', 'net.ipv4.conf.p0.rp_filter=0']);
}

/** One iperf3 run from the client: received Gbit/s. */
function iperf(net: Net, proto: Proto, seconds: number): number {
  const udp = proto === 'udp' ? ['-u', '-b', '0', '-l', '1400'] : [];
  // -O 1: the first second (slow start, ARP, conntrack) is left out of the rate.
  const out = sh('ip', ['netns', 'exec', net.client, 'iperf3', '-c', UPSTREAM, '-t', String(seconds), '-O', '1', '-J', ...udp]);
  const end = (JSON.parse(out) as { end: { sum_received?: { bits_per_second: number }; sum?: { bits_per_second: number } } }).end;
  return (end.sum_received ?? end.sum)!.bits_per_second / 1e9;
}

/** Both firewalls × TCP and UDP at `links` provider links. */
async function atLinks(links: number, v: Variant, quick: boolean): Promise<ForwardRow[]> {
  const net = build(links, v);
  const server = spawnTracked(['ip', 'netns', 'exec', net.up, 'iperf3', '-s'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  // Each protocol's two firewalls side by side, so a round's pair runs back to back.
  const rows: ForwardRow[] = (['tcp', 'udp'] as const).flatMap((proto) =>
    (['guestnet', 'masquerade-only'] as const).map((firewall) => ({ links, firewall, proto, gbps: [] })),
  );
  try {
    await sleep(300); // the server binds
    for (let round = 0; round < (quick ? 1 : ROUNDS); round++) {
      for (const row of round % 2 === 0 ? rows : [...rows].reverse()) {
        setFirewall(net, row.firewall, v);
        row.gbps.push(iperf(net, row.proto, quick ? 1 : 2));
      }
    }
  } finally {
    await stop(server);
    Object.values(net).forEach(deleteNamespace);
  }
  for (const r of rows) log(`forward ${links} links ${r.firewall} ${r.proto}: median ${median(r.gbps).toFixed(2)} Gbit/s`);
  return rows;
}

export async function forwardWorkload(v: Variant, quick: boolean): Promise<ForwardResults> {
  const started = new Date().toISOString();
  const rows: ForwardRow[] = [];
  for (const links of [1, 1024]) rows.push(...(await atLinks(links, v, quick)));
  return { date: started, variant: `guestnet apply ${v.args.join(' ')}`, quick, rows };
}
