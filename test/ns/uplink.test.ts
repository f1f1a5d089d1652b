import { existsSync } from 'node:fs';
import { GUESTNET, Netns, veth, type Ran } from '../helpers/netns';
import { BACKENDS } from './backends';
import { askPeer, withPeerEcho } from './peer-echo';
import { until, WatchProcess } from './watch-process';

// The provider's uplink (table inet guestnet, the boundary) with each
// backend: a provider namespace with two clients and an "upstream"
// namespace on 203.0.113.0/24 that has no route back to 100.64.0.0/16, so
// only masquerading gets an answer back. Rulesets are compared as
// `nft list ruleset` text. uplink-fail-closed.test.ts: without nft or a
// usable table.

const UPSTREAM = '203.0.113.1';
const FOREIGN = `table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "up0" counter packets 0 bytes 0 masquerade
	}
}
`;
const LEGACY = `table ip guestnet {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ip saddr 100.64.0.0/16 ip daddr 100.64.0.0/16 drop
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
  const forwarding = (): string => prov.sh('cat /proc/sys/net/ipv4/ip_forward').trim();

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

  test('clients reach upstream through masquerade (ICMP, TCP, UDP) and ping the gateway; nothing else of the provider', async () => {
    configure();
    expect(forwarding()).toBe('1');
    expect(c1.ping(UPSTREAM)).toBe(true);
    expect(c1.ping('169.254.0.1')).toBe(true);
    expect(await withPeerEcho(up, 'tcp', 8080, () => askPeer(c1, 'tcp', UPSTREAM, 8080))).toBe('203.0.113.2');
    expect(await withPeerEcho(up, 'udp', 8081, () => askPeer(c1, 'udp', UPSTREAM, 8081))).toBe('203.0.113.2');
    expect(c1.ping('203.0.113.2')).toBe(false); // the provider's uplink address is not a client's business
    expect(await withPeerEcho(prov, 'tcp', 8080, () => askPeer(c1, 'tcp', '169.254.0.1', 8080))).toBe('');
  });

  test('--open-port opens that port on the gateway address to clients, and only that one', async () => {
    configure('--open-port', 'tcp/8080');
    expect(await withPeerEcho(prov, 'tcp', 8080, () => askPeer(c1, 'tcp', '169.254.0.1', 8080))).toBe('100.64.0.5');
    expect(await withPeerEcho(prov, 'tcp', 8081, () => askPeer(c1, 'tcp', '169.254.0.1', 8081))).toBe('');
  });

  test('clients cannot reach each other; --allow-client-to-client lets them', () => {
    configure();
    expect(c1.ping('100.64.0.6')).toBe(false);
    ok(apply(prov, '--allow-client-to-client'));
    expect(c1.ping('100.64.0.6')).toBe(true);
    expect(ruleset()).toContain('iifgroup 26478 oifgroup 26478 accept');
  });

  test('--no-masquerade: no NAT chain, and upstream cannot answer', () => {
    configure('--no-masquerade');
    expect(ruleset()).not.toContain('masquerade');
    expect(ruleset()).toContain('iifgroup 26478 oifgroup 26478 drop');
    expect(c1.ping(UPSTREAM)).toBe(false);
  });

  test('the kernel holds exactly the table nft makes of the --dry-run script', () => {
    const script = ok(apply(prov, '--dry-run')).stdout.match(/nft -f - <<'EOF'\n([^]*?)EOF\n/)?.[1] ?? '';
    expect(script).toContain('table inet guestnet {\n');
    expect(ruleset()).toBe(''); // --dry-run changed nothing
    ok(apply(prov));
    const ours = ruleset();
    prov.sh('nft flush ruleset');
    ok(prov.run('nft', ['-f', '-'], script));
    expect(ours).toBe(ruleset());
    expect(ours.match(/^table .*/gm)).toEqual(['table inet guestnet {']);
  });

  test('a second apply and a per-link apply leave the ruleset byte-identical', () => {
    ok(apply(prov));
    const first = ruleset();
    ok(apply(prov));
    expect(ruleset()).toBe(first);
    const perLink = ok(apply(prov, 'p1'));
    expect(perLink.stderr).not.toContain('nft');
    expect(ruleset()).toBe(first);
    const status = JSON.parse(ok(prov.guestnet(['status', '--json', ...flags])).stdout);
    expect(status.uplink).toMatchObject({ present: true, legacy: false, drifted: false });
    expect(ok(prov.guestnet(['status', ...flags])).stdout).toContain('firewall table inet guestnet ok\n');
  });

  test('a changed table is replaced as a whole; status shows the drift first', () => {
    ok(apply(prov));
    const want = ruleset();
    prov.sh('nft add rule inet guestnet forward counter accept');
    const status = JSON.parse(ok(prov.guestnet(['status', '--json', ...flags])).stdout);
    expect(status.uplink).toMatchObject({ drifted: true, drift: 'chain forward differs' });
    expect(ok(prov.guestnet(['status', ...flags])).stdout).toContain('firewall table inet guestnet DRIFTED: chain forward differs\n');
    ok(apply(prov));
    expect(ruleset()).toBe(want);
  });

  test("the previous release's table ip guestnet is removed; a foreign table is kept across apply and flush", () => {
    prov.run('nft', ['-f', '-'], FOREIGN + LEGACY);
    expect(JSON.parse(ok(prov.guestnet(['status', '--json', ...flags])).stdout).uplink).toMatchObject({ legacy: true, drifted: true });
    ok(apply(prov));
    const applied = ruleset();
    expect(applied.match(/^table .*/gm)).toEqual(['table ip nat {', 'table inet guestnet {']);
    expect(ok(apply(prov)).stderr).not.toContain('nft'); // the foreign rules do not read as drift
    expect(ruleset()).toBe(applied);
    ok(prov.guestnet(['flush', 'p0', ...flags])); // one link: the VM's table stays
    expect(ruleset()).toBe(applied);
    const dry = ok(prov.guestnet(['flush', '--dry-run', ...flags])).stdout;
    expect(dry).toContain("nft -f - <<'EOF'\ntable ip guestnet {}\ndelete table ip guestnet\ntable inet guestnet {}\ndelete table inet guestnet\nEOF\n");
    ok(prov.guestnet(['flush', ...flags]));
    expect(ruleset()).toBe(FOREIGN);
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
    expect(text.match(/ jump from_client$/gm)).toHaveLength(1);
  });

  test('watch removes the table once the last provider link is gone', async () => {
    const busybox = flags.includes('--ip-binary');
    const watch = new WatchProcess(prov, [...flags, ...(busybox ? ['--events', 'poll', '--poll-interval', '50'] : [])]);
    try {
      await watch.ready();
      expect(ruleset()).toContain('table inet guestnet');
      prov.sh('ip link del p0');
      await new Promise((r) => setTimeout(r, 300));
      expect(ruleset()).toContain('table inet guestnet'); // p1 is still a provider link
      prov.sh('ip link del p1');
      await until('the table is removed', () => ruleset() === '');
    } finally {
      await watch.stop();
    }
    expect(watch.lines(/error/)).toEqual([]);
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

  test('--no-masquerade: no NAT chain; a drifted table is repaired on SIGHUP', async () => {
    const watch = new WatchProcess(prov, ['--no-masquerade']);
    try {
      await watch.ready();
      const want = prov.sh('nft list ruleset');
      expect(want).toContain('chain forward');
      expect(want).not.toContain('masquerade');
      prov.sh('nft add rule inet guestnet forward counter accept');
      watch.signal('SIGHUP');
      await until('the table is repaired', () => prov.sh('nft list ruleset') === want);
    } finally {
      await watch.stop();
    }
  });
});
