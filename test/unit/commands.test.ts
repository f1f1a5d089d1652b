import { join } from 'node:path';
import type { Backend } from '../../agent/apply/backend';
import { apply } from '../../agent/commands/apply';
import { status } from '../../agent/commands/status';
import { DEFAULT_OPTIONS, type KernelState, type Link, type LinkState } from '../../agent/convention/types';
import { classify, selectLinks } from '../../agent/discover/select';
import { listLinks } from '../../agent/discover/sysfs';
import { UsageError } from '../../agent/errors';
import { batched, createLogger } from '../../agent/log';
import type { UplinkTable } from '../../agent/convention/uplink';
import { isLinkStep, type Outcome, type Step } from '../../agent/plan/steps';

// Commands run against a sysfs fixture tree and a fake backend: no root.

const SYSFS = join(__dirname, '../data/sys/class/net');

/** Records what it is asked to apply; fails every step on interfaces listed in `failing`. */
class FakeBackend implements Backend {
  readonly name = 'fake';
  readonly applied: Step[] = [];
  constructor(
    private readonly links: Map<string, LinkState> = new Map(),
    private readonly failing: string[] = [],
  ) {}
  async readState(): Promise<KernelState> {
    return { links: this.links, forwarding: false };
  }
  async readUplink(): Promise<UplinkTable | undefined> {
    return undefined;
  }
  async apply(steps: readonly Step[]): Promise<Outcome[]> {
    this.applied.push(...steps);
    return steps.map((step) =>
      isLinkStep(step) && this.failing.includes(step.ifname) ? { step, error: 'no such interface (it vanished)' } : { step },
    );
  }
}

function context() {
  const lines: string[] = [];
  const log = createLogger({ format: 'human', verbosity: 0, write: (l) => lines.push(l.trimEnd()) });
  return { ctx: { derive: DEFAULT_OPTIONS, sysfs: SYSFS, log }, lines };
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
  // eth0 is already up: address and two routes; eth1 makes the VM a provider, so the uplink table too.
  expect(r.steps.map((s) => ('step' in s ? s.step : s).action)).toEqual(['addr-add', 'route-add', 'route-add', 'uplink-set']);
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
  const { interfaces: list, uplink } = await status([], new FakeBackend(configured), context().ctx);
  expect(uplink).toMatchObject({ current: null, drifted: true });
  expect(list.map((s) => [s.ifname, s.kind, s.drifted])).toEqual([
    ['lo', 'ignored', undefined],
    ['eth0', 'client', true],
    ['eth1', 'provider', true],
    ['enp1s0', 'hardware', undefined],
    ['wg0', 'ignored', undefined],
  ]);
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
