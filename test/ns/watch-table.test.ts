import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { GUESTNET, Netns, veth, type Ran } from '../helpers/netns';
import { until, WatchProcess } from './watch-process';

// `guestnet watch` keeps guestnet's nftables table while someone else
// flushes, deletes or edits it (nftables.service, an admin): a provider
// namespace with one client link and a foreign table, a watcher per test.
// The table's family is read from the kernel, so these hold for any family.

const FOREIGN = `table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "up0" counter packets 0 bytes 0 masquerade
	}
}
`;

const BACKENDS: [string, string[]][] = [
  ['netlink', ['--backend', 'netlink']],
  ['iproute2 + nft', ['--backend', 'ip']],
];

// How long a restore may take before a test gives up (the promise is a second; `make soak` measures it).
const RESTORE_WAIT_MS = 5_000;

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});

const ok = (r: Ran): Ran => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r;
};

/** `table FAMILY guestnet` as `nft list tables` names it, or undefined. */
function ourTable(ns: Netns): string | undefined {
  return ns.sh('nft list tables').split('\n').find((l) => / guestnet$/.test(l));
}

/**
 * `nft list` of guestnet's table, or undefined while there is none to list.
 * A listing that runs while a transaction commits can see a table which that
 * same transaction adds and deletes (the restore's `table ip guestnet {}` +
 * `delete table ip guestnet`: the kernel's dump reads without the commit
 * lock), and listing that table then fails: a miss, not a result.
 */
function listing(ns: Netns): string | undefined {
  const table = ourTable(ns);
  const r = table ? ns.run('nft', ['list', ...table.split(' ')]) : undefined;
  return r?.code === 0 ? r.stdout : undefined;
}

/** The ruleset without the table guestnet owns: what restoring must leave alone. */
function foreignPart(ns: Netns): string {
  const table = ourTable(ns);
  return table ? ns.sh(`nft list ruleset | awk '/^${table}/{skip=1} !skip{print} /^}/{skip=0}'`) : ns.sh('nft list ruleset');
}

/** NETLINK_NETFILTER (protocol 12) sockets in the namespace that hear group NFNLGRP_NFTABLES (bit 0x40). */
function tableListeners(ns: Netns): number {
  const rows = ns.sh('cat /proc/net/netlink').split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  return rows.filter((r) => r[1] === '12' && (parseInt(r[3] ?? '0', 16) & 0x40) !== 0).length;
}

/** Every line `nft monitor` prints in the namespace over `ms`: each one is a change someone committed. */
async function changesDuring(ns: Netns, ms: number): Promise<string[]> {
  const monitor = spawn('ip', ['netns', 'exec', ns.name, 'nft', 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  monitor.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise((r) => setTimeout(r, ms));
  monitor.kill();
  return out.split('\n').filter((l) => l !== '');
}

describe.each(BACKENDS)('watch keeps the nftables table (%s)', (_name, flags) => {
  let prov: Netns;
  let c1: Netns;
  let watcher: WatchProcess | undefined;
  let want: string;

  const ruleset = (): string => prov.sh('nft list ruleset');
  const sets = (): string[] => watcher?.lines(/table \w+ guestnet set/) ?? [];
  /** Waits for the table to be as the watcher left it; returns how long that took. */
  async function restored(what: string): Promise<number> {
    const start = Date.now();
    await until(`the table is restored after ${what}`, () => listing(prov) === want, RESTORE_WAIT_MS);
    const delay = Date.now() - start;
    // An upper bound: every check is an `ip netns exec nft` process; `make soak` measures the restore itself.
    console.log(`${_name}: table seen back ${delay} ms after ${what}`);
    return delay;
  }

  beforeEach(async () => {
    prov = new Netns('tpv');
    c1 = new Netns('tc1');
    veth(prov, 'p0', '0a:b3:ec:80:00:05', c1, 'c0', '0a:b3:ec:00:00:05');
    prov.run('nft', ['-f', '-'], FOREIGN);
    watcher = new WatchProcess(prov, flags);
    await watcher.ready();
    const table = ourTable(prov);
    expect(table).toBeDefined();
    want = prov.sh(`nft list ${table}`);
  });
  afterEach(async () => {
    const w = watcher;
    watcher = undefined;
    const exit = await w?.stop();
    prov.delete();
    c1.delete();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(w?.lines(/error/)).toEqual([]);
  });

  test('nft flush ruleset: the table is back, the foreign one stays gone, and nothing is rewritten afterwards', async () => {
    prov.sh('nft flush ruleset');
    await restored('nft flush ruleset');
    expect(ruleset()).toBe(want); // only guestnet's: restoring recreates nothing of anyone else's
    // Its own change woke the watcher too: it read the table back equal and wrote nothing.
    expect(await changesDuring(prov, 1_000)).toEqual([]);
    expect(sets()).toHaveLength(2); // start, restore
    expect(tableListeners(prov)).toBe(1);
  });

  test('nft delete table: back; the foreign table untouched', async () => {
    const foreign = foreignPart(prov);
    prov.sh(`nft delete ${ourTable(prov)}`);
    await restored('nft delete table');
    expect(foreignPart(prov)).toBe(foreign);
    expect(foreignPart(prov)).toContain('table ip nat');
  });

  test('a rule added to its chain: the table is replaced by the wanted one; the foreign table untouched', async () => {
    const foreign = foreignPart(prov);
    const table = ourTable(prov) ?? '';
    const chain = /^\tchain (\S+) \{$/m.exec(want)?.[1];
    prov.sh(`nft add rule ${table.replace(/^table /, '')} ${chain} counter accept`);
    await restored('nft add rule');
    expect(foreignPart(prov)).toBe(foreign);
  });

  test('status says DRIFTED while the table is missing (watcher stopped), ok once it is back', async () => {
    watcher?.signal('SIGSTOP');
    try {
      prov.sh('nft flush ruleset');
      const status = ok(prov.guestnet(['status', ...flags])).stdout;
      expect(status).toMatch(/^\w+ table \w+ guestnet DRIFTED\b/m);
      expect(JSON.parse(ok(prov.guestnet(['status', '--json', ...flags])).stdout).uplink).toMatchObject({ drifted: true });
    } finally {
      watcher?.signal('SIGCONT');
    }
    await restored('SIGCONT');
    expect(ok(prov.guestnet(['status', ...flags])).stdout).toMatch(/^\w+ table \w+ guestnet ok$/m);
  });

  test('a provider link added after a flush (watcher paused meanwhile) is configured and the table is back', async () => {
    watcher?.signal('SIGSTOP');
    try {
      prov.sh('nft flush ruleset');
      veth(prov, 'p1', '0a:b3:ec:80:00:06', c1, 'c1', '0a:b3:ec:00:00:06');
    } finally {
      watcher?.signal('SIGCONT');
    }
    await restored('a flush and a new provider link');
    await until('p1 is configured', () => watcher?.lines(/p1: configured as provider/).length === 1);
  });
});

describe('watch without provider links', () => {
  let ns: Netns;
  let peer: Netns;
  beforeEach(() => {
    ns = new Netns('tcl');
    peer = new Netns('tclp');
    veth(ns, 'c0', '0a:b3:ec:00:00:05', peer, 'p0', '0a:b3:ec:80:00:05');
  });
  afterEach(() => [ns, peer].forEach((n) => n.delete()));

  test('creates no table on nftables changes, does not listen for them, and starts to with a provider link', async () => {
    const watcher = new WatchProcess(ns, []);
    try {
      await watcher.ready();
      ns.run('nft', ['-f', '-'], FOREIGN);
      ns.sh('nft flush ruleset');
      ns.run('nft', ['-f', '-'], FOREIGN);
      await new Promise((r) => setTimeout(r, 300)); // time for a (wrong) reaction
      expect(ourTable(ns)).toBeUndefined();
      expect(tableListeners(ns)).toBe(0);
      veth(ns, 'p9', '0a:b3:ec:80:00:09', peer, 'c9', '0a:b3:ec:00:00:09');
      await until('the provider link gets the table', () => ourTable(ns) !== undefined);
      await until('the watcher listens', () => tableListeners(ns) === 1);
      ns.sh('ip link del p9');
      await until('the table is removed and the watcher stops listening', () => ourTable(ns) === undefined && tableListeners(ns) === 0);
      expect(ns.sh('nft list ruleset')).toBe(FOREIGN); // left alone throughout
    } finally {
      await watcher.stop();
    }
    expect(watcher.lines(/error/)).toEqual([]);
  });
});
