import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { busyboxIpDir, GUESTNET, Netns, veth, type Ran } from '../helpers/netns';
import { until, WatchProcess } from './watch-process';

// The provider's uplink (table ip guestnet) with each backend: a provider
// namespace with two clients and an "upstream" namespace on 203.0.113.0/24
// that has no route back to 100.64.0.0/16, so only masquerading gets an
// answer back. Rulesets are compared as `nft list ruleset` text.

const busybox = busyboxIpDir();
afterAll(() => busybox.cleanup());

const BACKENDS: [string, string[]][] = [
  ['netlink', ['--backend', 'netlink']],
  ['iproute2 + nft', ['--backend', 'ip']],
  ['busybox ip + netlink for the table', ['--backend', 'ip', '--ip-binary', busybox.ip]],
];

const UPSTREAM = '203.0.113.1';
const FOREIGN = `table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "up0" counter packets 0 bytes 0 masquerade
	}
}
`;

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});

const ok = (r: Ran): Ran => {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r;
};

describe.each(BACKENDS)('uplink (%s)', (_name, flags) => {
  let prov: Netns;
  let c1: Netns;
  let c2: Netns;
  let up: Netns;
  const ruleset = (): string => prov.sh('nft list ruleset');
  const apply = (ns: Netns, ...args: string[]): Ran => ns.guestnet(['apply', ...flags, ...args]);

  beforeEach(() => {
    [prov, c1, c2, up] = ['pv', 'c1', 'c2', 'up'].map((t) => new Netns(t));
    veth(prov, 'p0', '0a:b3:ec:80:00:05', c1, 'c0', '0a:b3:ec:00:00:05');
    veth(prov, 'p1', '0a:b3:ec:80:00:06', c2, 'c0', '0a:b3:ec:00:00:06');
    veth(prov, 'up0', '52:54:00:00:00:01', up, 'u0', '52:54:00:00:00:02');
    prov.sh('ip addr add 203.0.113.2/24 dev up0 && ip link set up0 up');
    up.sh(`ip addr add ${UPSTREAM}/24 dev u0 && ip link set u0 up`);
  });
  afterEach(() => [prov, c1, c2, up].forEach((ns) => ns.delete()));

  const configure = (...args: string[]): void => {
    ok(apply(prov, ...args));
    ok(apply(c1));
    ok(apply(c2));
  };

  test('clients reach upstream through masquerade: ping, and TCP seen from the provider address', async () => {
    configure();
    expect(c1.ping(UPSTREAM)).toBe(true);
    // The server answers with the address it sees the client connect from.
    const server = spawn('ip', ['netns', 'exec', up.name, 'socat', '-T5', 'TCP-LISTEN:8080,reuseaddr', 'SYSTEM:echo $SOCAT_PEERADDR'], { stdio: 'ignore' });
    try {
      await until('the server listens', () => up.sh('ss -Htln').includes(':8080'));
      const answer = c1.run('socat', ['-T5', '-', `TCP:${UPSTREAM}:8080,connect-timeout=5`], '');
      expect(answer.stdout.trim()).toBe('203.0.113.2');
    } finally {
      server.kill();
    }
  });

  test('clients cannot reach each other; --allow-client-to-client lets them', () => {
    configure();
    expect(c1.ping('100.64.0.6')).toBe(false);
    expect(c1.ping('169.254.0.1')).toBe(true); // the provider itself is not a client
    ok(apply(prov, '--allow-client-to-client'));
    expect(c1.ping('100.64.0.6')).toBe(true);
    expect(ruleset()).not.toContain('chain forward');
  });

  test('--no-masquerade: no NAT chain, and upstream cannot answer', () => {
    configure('--no-masquerade');
    expect(ruleset()).not.toContain('masquerade');
    expect(ruleset()).toContain('ip saddr 100.64.0.0/16 ip daddr 100.64.0.0/16 drop');
    expect(c1.ping(UPSTREAM)).toBe(false);
  });

  test('--dry-run prints the nft script and changes nothing', () => {
    const r = ok(apply(prov, '--dry-run'));
    expect(r.stdout).toContain("nft -f - <<'EOF'\ntable ip guestnet {}\ndelete table ip guestnet\ntable ip guestnet {\n");
    expect(ruleset()).toBe('');
  });

  test('a second apply and a per-link apply leave the ruleset byte-identical', () => {
    ok(apply(prov));
    const first = ruleset();
    expect(first).toContain('table ip guestnet');
    ok(apply(prov));
    expect(ruleset()).toBe(first);
    const perLink = ok(apply(prov, 'p1'));
    expect(perLink.stderr).not.toContain('nft');
    expect(ruleset()).toBe(first);
    const status = JSON.parse(ok(prov.guestnet(['status', '--json', ...flags])).stdout);
    expect(status.uplink).toMatchObject({ drifted: false });
  });

  test('a changed table is replaced as a whole; status shows the drift first', () => {
    ok(apply(prov));
    const want = ruleset();
    prov.sh('nft add rule ip guestnet forward counter accept');
    const status = JSON.parse(ok(prov.guestnet(['status', '--json', ...flags])).stdout);
    expect(status.uplink).toMatchObject({ drifted: true });
    expect(ok(prov.guestnet(['status', ...flags])).stdout).toContain('uplink table ip guestnet DRIFTED');
    ok(apply(prov));
    expect(ruleset()).toBe(want);
  });

  test('a foreign table is kept across apply and flush; flush restores the ruleset exactly', () => {
    prov.run('nft', ['-f', '-'], FOREIGN);
    const before = ruleset();
    expect(before).toBe(FOREIGN);
    ok(apply(prov));
    const applied = ruleset();
    expect(applied).toContain(FOREIGN.trim().split('\n')[3].trim());
    expect(ok(apply(prov)).stderr).not.toContain('nft'); // the foreign rules do not read as drift
    expect(ruleset()).toBe(applied);
    ok(prov.guestnet(['flush', 'p0', ...flags])); // one link: the VM's table stays
    expect(ruleset()).toContain('table ip guestnet');
    expect(ok(prov.guestnet(['flush', '--dry-run', ...flags])).stdout).toContain("nft -f - <<'EOF'\ntable ip guestnet {}\ndelete table ip guestnet\nEOF\n");
    expect(ruleset()).toContain('table ip guestnet');
    ok(prov.guestnet(['flush', ...flags]));
    expect(ruleset()).toBe(before);
  });

  test('a client-only VM gets no nftables state', () => {
    ok(apply(c1));
    expect(c1.sh('nft list ruleset')).toBe('');
  });

  test('concurrent applies on a provider leave one table and no duplicate rules', async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => prov.guestnetAsync(['apply', ...flags])));
    expect(runs.map((r) => r.code)).toEqual(runs.map(() => 0));
    const text = ruleset();
    expect(text.match(/^table /gm)).toEqual(['table ']);
    expect(text.match(/masquerade$/gm)).toHaveLength(1);
    expect(text.match(/ drop$/gm)).toHaveLength(1);
  });

  test('watch removes the table once the last provider link is gone', async () => {
    const watch = new WatchProcess(prov, [...flags, ...(flags.includes(busybox.ip) ? ['--events', 'poll', '--poll-interval', '50'] : [])]);
    try {
      await watch.ready();
      expect(ruleset()).toContain('table ip guestnet');
      prov.sh('ip link del p0');
      await new Promise((r) => setTimeout(r, 300));
      expect(ruleset()).toContain('table ip guestnet'); // p1 is still a provider link
      prov.sh('ip link del p1');
      await until('the table is removed', () => ruleset() === '');
    } finally {
      await watch.stop();
    }
    expect(watch.lines(/error/)).toEqual([]);
  });
});

describe('without the nft binary', () => {
  let prov: Netns;
  let c1: Netns;
  let bin: string;
  beforeEach(() => {
    prov = new Netns('pv');
    c1 = new Netns('c1');
    veth(prov, 'p0', '0a:b3:ec:80:00:05', c1, 'c0', '0a:b3:ec:00:00:05');
    bin = mkdtempSync(join(tmpdir(), 'gn-nonft-'));
    symlinkSync(execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim(), join(bin, 'ip'));
  });
  afterEach(() => {
    prov.delete();
    c1.delete();
    rmSync(bin, { recursive: true, force: true });
  });

  test('netlink, and busybox ip with netlink for the table, need no nft', () => {
    for (const flags of [['--backend', 'netlink'], ['--backend', 'ip', '--ip-binary', busybox.ip]]) {
      prov.sh('nft flush ruleset');
      ok(prov.run('env', [`PATH=${bin}`, GUESTNET, 'apply', ...flags]));
      expect(prov.sh('nft list ruleset')).toContain('ip saddr 100.64.0.0/16 ip daddr != 100.64.0.0/16 masquerade');
    }
  });

  test('--backend ip (iproute2): one clear error line, exit 1, the link still configured', () => {
    const r = prov.run('env', [`PATH=${bin}`, GUESTNET, 'apply', '--backend', 'ip']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => /error|nft/i.test(l))).toEqual([
      'guestnet: error: cannot run "nft" for the uplink table: not found (install nftables)',
    ]);
    expect(prov.addrs('p0')).toEqual(['169.254.0.1/32']);
    expect(prov.sh('nft list ruleset')).toBe('');
  });
});

describe('watch with the uplink options', () => {
  let prov: Netns;
  let c1: Netns;
  beforeEach(() => {
    prov = new Netns('pv');
    c1 = new Netns('c1');
    veth(prov, 'p0', '0a:b3:ec:80:00:05', c1, 'c0', '0a:b3:ec:00:00:05');
  });
  afterEach(() => [prov, c1].forEach((ns) => ns.delete()));

  test('--no-masquerade: only the isolation chain; a drifted table is repaired on SIGHUP', async () => {
    const watch = new WatchProcess(prov, ['--no-masquerade']);
    try {
      await watch.ready();
      const want = prov.sh('nft list ruleset');
      expect(want).toContain('chain forward');
      expect(want).not.toContain('masquerade');
      prov.sh('nft add rule ip guestnet forward counter accept');
      watch.signal('SIGHUP');
      await until('the table is repaired', () => prov.sh('nft list ruleset') === want);
    } finally {
      await watch.stop();
    }
  });
});
