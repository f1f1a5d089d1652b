import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../agent/apply/backend';
import { apply } from '../../agent/commands/apply';
import { status } from '../../agent/commands/status';
import { DEFAULT_OPTIONS, type KernelState, type Link, type LinkState } from '../../agent/convention/types';
import { classify, selectLinks } from '../../agent/discover/select';
import { listLinks } from '../../agent/discover/sysfs';
import { UsageError } from '../../agent/errors';
import { batched, createLogger } from '../../agent/log';
import { formatStatus } from '../../agent/entry/format';
import type { FoundTables } from '../../agent/nft/decode';
import type { Ruleset } from '../../agent/nft/ruleset';
import { held } from '../helpers/nft-held';
import { isLinkStep, type LinkStep, type Outcome, type Step } from '../../agent/plan/steps';

// Commands run against a sysfs fixture tree and a fake backend: no root.

const SYSFS = join(__dirname, '../data/sys/class/net');

/**
 * A small kernel model: keeps addresses and routes per link and applies
 * steps to them, so apply's read-back sees its own work. `link-up` sets
 * IFF_UP in a copy of the sysfs fixture. Fails every step on interfaces
 * listed in `failing` (and the firewall table's with `table`); `lose` is a
 * side effect run after every apply.
 */
class FakeBackend implements Backend {
  readonly name = 'fake';
  readonly applied: Step[] = [];
  private forwarding = false;
  private uplink: Ruleset | undefined;
  constructor(
    private readonly links: Map<string, LinkState> = new Map(),
    private readonly failing: string[] = [],
    private readonly lose: (links: Map<string, LinkState>) => void = () => undefined,
  ) {}
  async readState(): Promise<KernelState> {
    return { links: new Map(this.links), forwarding: this.forwarding };
  }
  async readUplink(): Promise<FoundTables> {
    return held(this.uplink);
  }
  async apply(steps: readonly Step[]): Promise<Outcome[]> {
    this.applied.push(...steps);
    const outcomes = steps.map((step): Outcome => {
      if (!isLinkStep(step)) {
        if (step.action === 'forwarding-on') this.forwarding = true;
        else if (this.failing.includes('table')) return { step, error: 'the kernel has no nf_tables' };
        else this.uplink = step.action === 'uplink-set' ? step.table : undefined;
        return { step };
      }
      if (this.failing.includes(step.ifname)) return { step, error: 'no such interface (it vanished)' };
      this.links.set(step.ifname, applyStep(this.links.get(step.ifname) ?? { addrs: [], routes: [] }, step));
      return { step };
    });
    this.lose(this.links);
    return outcomes;
  }
}

function applyStep(s: LinkState, step: LinkStep): LinkState {
  switch (step.action) {
    case 'link-set':
      if (step.group !== undefined) writeFileSync(join(sysfs, step.ifname, 'netdev_group'), `${step.group}\n`);
      return s;
    case 'link-up':
      writeFileSync(join(sysfs, step.ifname, 'flags'), '0x1003\n');
      return s;
    case 'addr-add':
      return { ...s, addrs: [...s.addrs, step.addr] };
    case 'addr-del':
      return { ...s, addrs: s.addrs.filter((a) => a.address !== step.addr.address || a.prefix !== step.addr.prefix) };
    case 'route-add':
      return { ...s, routes: [...s.routes, step.route] };
    case 'route-del':
      return { ...s, routes: s.routes.filter((r) => r !== step.route) };
  }
}

let sysfs = '';
beforeEach(() => {
  sysfs = mkdtempSync(join(tmpdir(), 'gn-sysfs-'));
  cpSync(SYSFS, sysfs, { recursive: true });
});
afterEach(() => rmSync(sysfs, { recursive: true, force: true }));

function context() {
  const lines: string[] = [];
  const log = createLogger({ format: 'human', verbosity: 0, write: (l) => lines.push(l.trimEnd()) });
  return { ctx: { derive: DEFAULT_OPTIONS, sysfs, log }, lines };
}

test('listLinks reads the fixture tree in ifindex order with the up flag', () => {
  const links = listLinks(SYSFS);
  expect(links.map((l) => [l.name, l.ifindex, l.up])).toEqual([
    ['lo', 1, true],
    ['eth0', 2, true],
    ['eth1', 3, false],
    ['enp1s0', 4, true],
    ['wg0', 5, true],
  ]);
  expect(links.map((l) => classify(l, DEFAULT_OPTIONS).kind)).toEqual(['ignored', 'client', 'provider', 'hardware', 'ignored']);
});

test('selectLinks names every missing interface', () => {
  const links: Link[] = listLinks(SYSFS);
  expect(() => selectLinks(links, ['eth0', 'nope0', 'nope1'])).toThrow(new UsageError('nope0, nope1: no such interface'));
});

test('apply touches only inter-guest links and logs one line per change', async () => {
  const backend = new FakeBackend();
  const { ctx, lines } = context();
  const r = await apply({ ifaces: [], dryRun: false, wait: 0 }, backend, ctx);
  expect(r.interfaces).toEqual([
    { ifname: 'eth0', role: 'client', ok: true },
    { ifname: 'eth1', role: 'provider', ok: true },
  ]);
  expect(new Set(backend.applied.map((s) => (isLinkStep(s) ? s.ifname : '-')))).toEqual(new Set(['eth0', 'eth1', '-']));
  expect(lines).toContain('guestnet: eth1: ip link set dev eth1 up');
  expect(lines).toContain('guestnet: eth0: configured as client');
});

test('apply --dry-run plans without applying', async () => {
  const backend = new FakeBackend();
  const r = await apply({ ifaces: ['eth0'], dryRun: true, wait: 0 }, backend, context().ctx);
  expect(backend.applied).toEqual([]);
  // eth0 is already up: address and two routes; eth1 makes the VM a provider: the firewall, then forwarding.
  expect(r.steps.map((s) => ('step' in s ? s.step : s).action)).toEqual(['addr-add', 'route-add', 'route-add', 'uplink-set', 'forwarding-on']);
});

test('fail closed: forwarding goes on only after the table, and not at all when the table cannot be set', async () => {
  const good = new FakeBackend();
  expect((await apply({ ifaces: [], dryRun: false, wait: 0 }, good, context().ctx)).uplinkOk).toBe(true);
  const vmWide = good.applied.filter((s) => !isLinkStep(s)).map((s) => s.action);
  expect(vmWide).toEqual(['uplink-set', 'forwarding-on']);

  const bad = new FakeBackend(new Map(), ['table']);
  const { ctx, lines } = context();
  const r = await apply({ ifaces: [], dryRun: false, wait: 0 }, bad, ctx);
  expect(r.uplinkOk).toBe(false);
  expect(bad.applied.map((s) => s.action)).not.toContain('forwarding-on');
  expect((await bad.readState()).forwarding).toBe(false);
  expect(lines.filter((l) => l.includes('error'))).toEqual([
    'guestnet: error: firewall table inet guestnet not in place: the kernel has no nf_tables; IPv4 forwarding not switched on',
  ]);
});

test('one failing interface fails alone; the other is still configured', async () => {
  const backend = new FakeBackend(new Map(), ['eth1']);
  const { ctx, lines } = context();
  const r = await apply({ ifaces: [], dryRun: false, wait: 0 }, backend, ctx);
  expect(r.interfaces).toEqual([
    { ifname: 'eth0', role: 'client', ok: true },
    { ifname: 'eth1', role: 'provider', ok: false, error: 'no such interface (it vanished)' },
  ]);
  expect(lines).toContain('guestnet: eth1: error: ip link set dev eth1 up: no such interface (it vanished)');
});

test('drift left after a round (a kernel side effect) is planned again, in the same run', async () => {
  let lost = false;
  const dropRoutesOnce = (links: Map<string, LinkState>) => {
    const eth0 = links.get('eth0');
    if (lost || !eth0) return;
    lost = true;
    links.set('eth0', { ...eth0, routes: [] });
  };
  const backend = new FakeBackend(new Map(), [], dropRoutesOnce);
  const { ctx } = context();
  const r = await apply({ ifaces: ['eth0'], dryRun: false, wait: 0 }, backend, ctx);
  expect(r.interfaces).toEqual([{ ifname: 'eth0', role: 'client', ok: true }]);
  expect(backend.applied.filter((s) => s.action === 'route-add')).toHaveLength(4); // twice each
});

test('drift that never goes fails the interface after three rounds, naming what is missing', async () => {
  const dropRoutes = (links: Map<string, LinkState>) => {
    const eth0 = links.get('eth0');
    if (eth0) links.set('eth0', { ...eth0, routes: [] });
  };
  const { ctx, lines } = context();
  const r = await apply({ ifaces: ['eth0'], dryRun: false, wait: 0 }, new FakeBackend(new Map(), [], dropRoutes), ctx);
  expect(r.interfaces).toEqual([{ ifname: 'eth0', role: 'client', ok: false, error: expect.stringMatching(/^still not as wanted after 3 rounds; left to do: ip route replace 169.254.0.1\/32 dev eth0 metric 43334.*; ip route replace default via/) }]);
  expect(lines.filter((l) => l.includes('error'))).toEqual([`guestnet: eth0: error: ${r.interfaces[0].error}`]);
  expect(lines).not.toContain('guestnet: eth0: configured as client');
});

test('apply --wait gives up after the timeout when a named link never shows', async () => {
  const { ctx, lines } = context();
  await expect(apply({ ifaces: ['late0'], dryRun: false, wait: 0.1 }, new FakeBackend(), ctx)).rejects.toThrow(
    'late0: no such interface',
  );
  expect(lines[0]).toBe('guestnet: warn: waited 0.1s for late0; going on with what is there');
});

test('status reports drift per inter-guest link and nothing for others', async () => {
  const configured = new Map<string, LinkState>([
    ['eth0', { addrs: [{ address: '100.64.165.70', prefix: 32 }], routes: [] }],
  ]);
  const result = await status([], new FakeBackend(configured), context().ctx);
  const { interfaces: list, uplink } = result;
  expect(uplink).toMatchObject({ present: false, drifted: true, drift: 'table inet guestnet is missing' });
  // A provider VM: the resolver is shown, here as not running (no state file of a live process).
  expect(result.dns).toEqual({ running: false });
  expect(formatStatus(result)).toMatch(/^firewall table inet guestnet DRIFTED: table inet guestnet is missing\nresolver \(guestnet dns\) not running\n$/m);
  expect(list.map((s) => [s.ifname, s.kind, s.drifted])).toEqual([
    ['lo', 'ignored', undefined],
    ['eth0', 'client', true],
    ['eth1', 'provider', true],
    ['enp1s0', 'hardware', undefined],
    ['wg0', 'ignored', undefined],
  ]);
});

test('status shows a running resolver: where it listens, its upstreams, its last failure', () => {
  const dns = {
    running: true as const, pid: 42, listening: '169.254.0.1:53', user: 'nobody', upstreams: ['203.0.113.1'], source: '/etc/resolv.conf',
    lastFailure: { upstream: '198.51.100.9', what: 'no answer in 1500 ms', at: '2026-12-03T09:00:00.000Z' },
  };
  const uplink = { expected: null, present: false, legacy: false, drifted: false };
  expect(formatStatus({ interfaces: [], uplink, dns })).toBe(
    'resolver (guestnet dns) listening on 169.254.0.1:53 (UDP and TCP) as nobody, pid 42\n' +
      '  upstreams: 203.0.113.1 (from /etc/resolv.conf)\n' +
      '  last upstream failure: 198.51.100.9: no answer in 1500 ms, 2026-12-03T09:00:00.000Z\n',
  );
});

test('batched logging keeps order and writes once per turn', async () => {
  const writes: string[] = [];
  const write = batched((text) => writes.push(text));
  write('a\n');
  write('b\n');
  expect(writes).toEqual([]);
  await Promise.resolve();
  write('c\n');
  await Promise.resolve();
  expect(writes).toEqual(['a\nb\n', 'c\n']);
});

test('batched logging writes a turn of more than 64 KiB in pieces, in order', async () => {
  const writes: string[] = [];
  const write = batched((text) => writes.push(text));
  const line = `${'x'.repeat(99)}\n`;
  for (let i = 0; i < 1000; i++) write(line);
  expect(writes.length).toBe(1); // 64 KiB reached once so far
  await Promise.resolve();
  expect(writes.length).toBe(2);
  expect(writes.join('')).toBe(line.repeat(1000));
});
