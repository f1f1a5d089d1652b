import { spawnSync } from 'node:child_process';
import { addNamespace, benchLink, deleteNamespace, log, median, rotate, sh, type BenchLink } from './common';
import { Runner } from './procs';
import { applyCmd } from './programs';
import type { UplinkRow, Variant } from './results';

// The cost of the uplink table at boot: `apply` of one unconfigured
// provider link with `table ip guestnet` absent (it gets created) and
// already right (read back, left alone), beside `apply` of one client link
// (no nftables state at all). Links are reset, and the table deleted,
// outside the timed region before every run.

type Case = { readonly label: string; readonly ns: string; readonly link: BenchLink; readonly dropTable: boolean };

function reset(c: Case): void {
  sh('ip', ['-n', c.ns, 'addr', 'flush', 'dev', c.link.name]);
  sh('ip', ['-n', c.ns, 'link', 'set', c.link.name, 'down']);
  if (c.dropTable) spawnSync('ip', ['netns', 'exec', c.ns, 'nft', 'delete', 'table', 'ip', 'guestnet']);
}

function namespaceWith(tag: string, link: BenchLink): { ns: string; peer: string } {
  const ns = addNamespace(tag);
  const peer = addNamespace(`${tag}peer`);
  sh('ip', ['-n', ns, 'link', 'add', link.name, 'address', link.mac, 'type', 'veth', 'peer', 'name', link.peer, 'netns', peer]);
  return { ns, peer };
}

/** Every variant × {client, provider without the table, provider with it}, interleaved. */
export async function uplinkWorkload(variants: readonly Variant[], quick: boolean): Promise<UplinkRow[]> {
  const provider = namespaceWith('upl', benchLink('e0', 'p0', 1, 1, 'provider'));
  const client = namespaceWith('cli', benchLink('e0', 'c0', 1, 1, 'client'));
  const cases: Case[] = [
    { label: 'client link (no table)', ns: client.ns, link: benchLink('e0', 'c0', 1, 1, 'client'), dropTable: false },
    { label: 'provider link, table absent', ns: provider.ns, link: benchLink('e0', 'p0', 1, 1, 'provider'), dropTable: true },
    { label: 'provider link, table present', ns: provider.ns, link: benchLink('e0', 'p0', 1, 1, 'provider'), dropTable: false },
  ];
  const runners = new Map([provider.ns, client.ns].map((ns) => [ns, new Runner(ns)]));
  const live = variants.filter((v) => v.available);
  const rows: UplinkRow[] = live.flatMap((v) => cases.map((c) => ({ variant: v.label, case: c.label, ms: [], cpuMs: [], errors: 0 })));
  try {
    const reps = quick ? 3 : 30;
    for (let r = 0; r <= reps; r++) {
      for (const i of rotate(rows.map((_, i) => i), r)) {
        const c = cases[i % cases.length];
        reset(c);
        const reply = await (runners.get(c.ns) as Runner).run({ cmds: [applyCmd(live[Math.floor(i / cases.length)])] });
        if (r === 0) continue; // warms caches
        rows[i].ms.push(reply.ms);
        rows[i].cpuMs.push(reply.cpuMs);
        if (reply.codes.some((code) => code !== 0)) rows[i].errors++;
      }
    }
  } finally {
    for (const runner of runners.values()) await runner.close();
    for (const ns of [provider.ns, provider.peer, client.ns, client.peer]) deleteNamespace(ns);
  }
  for (const row of rows) log(`uplink ${row.variant} ${row.case}: median ${median(row.ms).toFixed(2)} ms`);
  return rows;
}
