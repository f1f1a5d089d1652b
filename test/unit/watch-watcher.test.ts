import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../agent/apply/backend';
import { watch } from '../../agent/commands/watch';
import { DEFAULT_OPTIONS, type Addr, type KernelState, type Link, type Route } from '../../agent/convention/types';
import { EnvironmentError } from '../../agent/errors';
import { createLogger } from '../../agent/log';
import type { FoundTables } from '../../agent/nft/decode';
import type { Ruleset } from '../../agent/nft/ruleset';
import { held } from '../helpers/nft-held';
import { isLinkStep, type Outcome, type Step } from '../../agent/plan/steps';
import { listLinks } from '../../agent/discover/sysfs';
import type { EventSink, EventSource } from '../../agent/watch/source';
import { Watcher } from '../../agent/watch/watcher';

// The watcher against a sysfs tree in a temp dir, a fake backend and an
// event source the test fires by hand: no root, no kernel.

/** An event source the test drives. */
class ManualEvents implements EventSource {
  sink: EventSink | undefined;
  stopped = false;
  constructor(readonly name = 'manual') {}
  start(sink: EventSink): void {
    this.sink = sink;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

/**
 * Records the steps per apply and the links per read; keeps what it applied
 * as the kernel would (link-up sets the flag in the sysfs tree), so a plan
 * read back comes out empty. `during` runs mid-apply (to remove a link, say).
 */
class FakeBackend implements Backend {
  readonly name = 'fake';
  readonly passes: Step[][] = [];
  readonly reads: string[][] = [];
  /** Per read, the ifindexes whose routes the caller expected (may confirm instead of reading). */
  readonly expectedReads: number[][] = [];
  private readonly state = new Map<string, { addrs: Addr[]; routes: Route[] }>();
  failState = false;
  during: (() => void) | undefined;
  uplink: Ruleset | undefined;
  uplinkReads = 0;
  uplinkWrites = 0;
  /** Set by a test: the backend can then answer for one link (the netlink backend's RTM_GETLINK by ifindex). */
  linkAt?: (ifindex: number) => Link | undefined;
  constructor(private readonly sysfs: string) {}
  async readUplink(): Promise<FoundTables> {
    this.uplinkReads++;
    return held(this.uplink);
  }
  async readState(links: readonly Link[], expected?: ReadonlyMap<number, readonly Route[]>): Promise<KernelState> {
    if (this.failState) throw new EnvironmentError('cannot run "ip": not found');
    if (links.length === 0) return { links: new Map(), forwarding: true }; // the uplink asking about forwarding only
    this.reads.push(links.map((l) => l.name));
    this.expectedReads.push([...(expected?.keys() ?? [])]);
    // A removed link's state went with it, as in the kernel.
    const gone = (name: string) => !existsSync(join(this.sysfs, name));
    return { links: new Map(links.map((l) => [l.name, gone(l.name) ? { addrs: [], routes: [] } : this.of(l.name)])), forwarding: true };
  }
  async apply(steps: readonly Step[]): Promise<Outcome[]> {
    if (steps.some(isLinkStep)) this.passes.push([...steps]); // the uplink's own apply is not a link pass
    this.during?.();
    this.during = undefined;
    return steps.map((step) => {
      if (!isLinkStep(step)) {
        if (step.action !== 'forwarding-on') this.uplinkWrites++;
        if (step.action === 'uplink-set') this.uplink = step.table;
        if (step.action === 'uplink-del') this.uplink = undefined;
        return { step };
      }
      if (!existsSync(join(this.sysfs, step.ifname))) return { step, error: 'no such interface (it vanished)' };
      const st = this.of(step.ifname);
      if (step.action === 'link-up') writeFileSync(join(this.sysfs, step.ifname, 'flags'), '0x1003\n');
      if (step.action === 'link-set' && step.group !== undefined) writeFileSync(join(this.sysfs, step.ifname, 'netdev_group'), `${step.group}\n`);
      if (step.action === 'addr-add') st.addrs.push(step.addr);
      if (step.action === 'route-add') st.routes.push(step.route);
      return { step };
    });
  }
  ifnames(pass: number): string[] {
    return [...new Set(this.passes[pass].flatMap((s) => (isLinkStep(s) ? [s.ifname] : [])))];
  }
  private of(name: string): { addrs: Addr[]; routes: Route[] } {
    const st = this.state.get(name) ?? { addrs: [], routes: [] };
    this.state.set(name, st);
    return st;
  }
}

let root: string;
let lines: string[];
let backend: FakeBackend;
let events: ManualEvents;
let fallback: ManualEvents;
let tableEvents: ManualEvents;
let opened: number;
let watcher: Watcher;

function addLink(name: string, ifindex: number, mac: string): void {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [attr, value] of [['ifindex', ifindex], ['address', mac], ['type', 1], ['flags', '0x1002'], ['netdev_group', 0]]) {
    writeFileSync(join(dir, String(attr)), `${value}\n`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fires one event and gives its pass time to run (for what must not happen). */
async function fire(): Promise<void> {
  events.sink?.changed();
  await sleep(50);
}

/** Waits until `check` holds, failing after a generous deadline (for what must happen). */
async function eventually(check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5_000; !check(); await sleep(5)) {
    if (Date.now() > deadline) throw new Error('condition never held');
  }
}

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'gn-sysfs-'));
  lines = [];
  const log = createLogger({ format: 'human', verbosity: 0, write: (l) => lines.push(l.trimEnd()) });
  backend = new FakeBackend(root);
  events = new ManualEvents();
  fallback = new ManualEvents('fallback');
  tableEvents = new ManualEvents('nf_tables');
  opened = 0;
  addLink('lo', 1, '00:00:00:00:00:00');
  addLink('eth0', 2, '0a:b3:ec:00:00:02');
  addLink('enp1s0', 3, '52:54:00:12:34:56');
  const tableSource = async () => (opened++, tableEvents);
  watcher = new Watcher(backend, { derive: DEFAULT_OPTIONS, sysfs: root, log }, { debounceMs: 1, fallback: () => fallback, tableEvents: tableSource });
  await watcher.start(events);
});
afterEach(async () => {
  await watcher.stop();
  rmSync(root, { recursive: true, force: true });
});

test('start applies every inter-guest link once, and nothing else', () => {
  expect(backend.passes).toHaveLength(1);
  expect(backend.ifnames(0)).toEqual(['eth0']);
  expect(lines).toContain('guestnet: eth0: configured as client');
});

test('a new link is applied alone; an unrelated event applies nothing', async () => {
  addLink('eth1', 4, '0a:b3:ec:80:00:04');
  events.sink?.changed();
  await eventually(() => backend.passes.length === 2);
  expect(backend.ifnames(1)).toEqual(['eth1']);
  await fire();
  expect(backend.passes).toHaveLength(2);
});

test('only a link that just appeared has its wanted routes passed as expected; a renamed one is read in full', async () => {
  expect(backend.expectedReads.flat()).toEqual([]); // the start's full pass
  const started = backend.expectedReads.length;
  addLink('eth1', 4, '0a:b3:ec:80:00:04');
  events.sink?.changed();
  await eventually(() => backend.passes.length === 2);
  const reads = backend.expectedReads.length;
  expect(backend.expectedReads.slice(started)).toEqual(Array(reads - started).fill([4]));
  renameSync(join(root, 'eth1'), join(root, 'uplink'));
  events.sink?.changed();
  await eventually(() => backend.reads.length > reads);
  expect(backend.expectedReads.slice(reads).flat()).toEqual([]);
});

test('a removal is logged once; a rename is logged and re-planned', async () => {
  rmSync(join(root, 'eth0'), { recursive: true });
  addLink('eth1', 4, '0a:b3:ec:00:00:04');
  events.sink?.changed();
  await eventually(() => backend.passes.length === 2);
  renameSync(join(root, 'eth1'), join(root, 'uplink'));
  events.sink?.changed();
  await eventually(() => backend.passes.length === 3);
  expect(lines.filter((l) => /removed|renamed/.test(l))).toEqual([
    'guestnet: eth0: removed (was client 100.64.0.2/32); the kernel dropped its addresses and routes',
    'guestnet: uplink: renamed from eth1',
  ]);
  expect(backend.ifnames(2)).toEqual(['uplink']);
});

test('a link removed mid-apply gives one line, not an error per step', async () => {
  addLink('eth1', 4, '0a:b3:ec:00:00:04');
  backend.during = () => rmSync(join(root, 'eth1'), { recursive: true });
  events.sink?.changed();
  await eventually(() => lines.some((l) => l.includes('eth1: removed')));
  await fire(); // the removal's own event reports nothing more
  expect(lines.filter((l) => l.includes('eth1') && !l.includes(' ip '))).toEqual([
    'guestnet: eth1: removed while being configured (was client 100.64.0.4/32)',
  ]);
  expect(lines.filter((l) => /error/.test(l))).toEqual([]);
});

test('a link removed mid-apply is looked up alone where the backend can, not in a listing of every link', async () => {
  const asked: number[] = [];
  backend.linkAt = (ifindex) => (asked.push(ifindex), listLinks(root).find((l) => l.ifindex === ifindex));
  addLink('eth1', 4, '0a:b3:ec:00:00:04');
  backend.during = () => rmSync(join(root, 'eth1'), { recursive: true });
  events.sink?.changed();
  await eventually(() => lines.some((l) => l.includes('eth1: removed while being configured')));
  expect(asked).toEqual([4]);
});

test('an error in a later pass is logged, the watcher goes on, and the link is retried', async () => {
  backend.failState = true;
  addLink('eth1', 4, '0a:b3:ec:00:00:04');
  events.sink?.changed();
  // (eth0 is re-checked too: under polling, its coming up since the last listing is news.)
  await eventually(() => lines.some((l) => /^guestnet: (eth0, )?eth1(, eth0)?: error: cannot run "ip": not found$/.test(l)));
  backend.failState = false;
  events.sink?.changed();
  await eventually(() => backend.passes.length === 2);
  expect(backend.ifnames(1)).toEqual(['eth1']);
});

test('SIGHUP (reapply) reads and plans every inter-guest link again; only what differs is applied', async () => {
  addLink('eth1', 4, '0a:b3:ec:80:00:04');
  watcher.reapply();
  await eventually(() => backend.passes.length === 2);
  expect(backend.reads).toContainEqual(['eth0', 'eth1']);
  expect(backend.ifnames(1)).toEqual(['eth1']);
});

test('a failed event source is replaced by the fallback, which then drives passes', async () => {
  events.sink?.failed(new Error('netlink socket closed'));
  await eventually(() => fallback.sink !== undefined);
  expect(events.stopped).toBe(true);
  expect(lines).toContain('guestnet: warn: manual events failed (netlink socket closed); falling back to fallback');
  addLink('eth1', 4, '0a:b3:ec:00:00:04');
  fallback.sink?.changed();
  await eventually(() => backend.passes.length === 2);
  expect(backend.ifnames(1)).toEqual(['eth1']);
});

test('stop stops the source; events after it are ignored', async () => {
  await watcher.stop();
  expect(events.stopped).toBe(true);
  addLink('eth1', 4, '0a:b3:ec:00:00:04');
  await fire();
  expect(backend.passes).toHaveLength(1);
});

describe('the nftables table', () => {
  /** A provider link appears; resolves once its table is set and read back, and read once more after listening began. */
  async function provider(): Promise<void> {
    const reads = backend.uplinkReads;
    addLink('eth1', 4, '0a:b3:ec:80:00:04');
    events.sink?.changed();
    await eventually(() => backend.uplink !== undefined && backend.uplinkReads === reads + 3);
  }
  const sets = () => lines.filter((l) => /table \w+ guestnet set/.test(l));

  test('a client-only VM opens no nf_tables events and reads no table on link events', async () => {
    const reads = backend.uplinkReads;
    addLink('eth1', 4, '0a:b3:ec:00:00:04');
    events.sink?.changed();
    await eventually(() => backend.passes.length === 2);
    expect(opened).toBe(0);
    expect(backend.uplinkReads).toBe(reads);
  });

  test('with a provider link, a client link\'s hotplug reads no table', async () => {
    await provider();
    const reads = backend.uplinkReads;
    addLink('eth2', 5, '0a:b3:ec:00:00:05');
    events.sink?.changed();
    await eventually(() => backend.passes.length === 3);
    await sleep(50);
    expect(backend.uplinkReads).toBe(reads);
  });

  test('a table removed by someone else is put back; the events of its own change read it once and write nothing', async () => {
    await provider();
    expect(opened).toBe(1);
    const want = backend.uplink;
    backend.uplink = undefined; // nft flush ruleset
    tableEvents.sink?.table();
    await eventually(() => backend.uplink !== undefined);
    expect(backend.uplink).toEqual(want);
    expect(sets()).toHaveLength(2);
    const { uplinkReads, uplinkWrites } = backend;
    tableEvents.sink?.table(); // the kernel's notification of that very change
    await eventually(() => backend.uplinkReads === uplinkReads + 1);
    await sleep(50);
    expect([backend.uplinkReads, backend.uplinkWrites]).toEqual([uplinkReads + 1, uplinkWrites]);
    expect(sets()).toHaveLength(2);
  });

  test('lost table events (ENOBUFS) are said and re-read; the last provider link gone stops listening', async () => {
    await provider();
    backend.uplink = { sets: [], chains: [] }; // changed meanwhile
    tableEvents.sink?.table('the nf_tables receive queue overflowed (ENOBUFS)');
    await eventually(() => sets().length === 2);
    expect(lines).toContain('guestnet: the nf_tables receive queue overflowed (ENOBUFS); re-reading the table');
    rmSync(join(root, 'eth1'), { recursive: true });
    events.sink?.changed();
    await eventually(() => tableEvents.stopped);
    expect(backend.uplink).toBeUndefined();
  });

  test('without nf_tables events the table is polled, and the log says so once', async () => {
    await watcher.stop();
    const log = createLogger({ format: 'human', verbosity: 0, write: (l) => lines.push(l.trimEnd()) });
    const tableEvents = async (): Promise<EventSource> => {
      throw new EnvironmentError('cannot open a nf_tables socket: Protocol not supported');
    };
    watcher = new Watcher(backend, { derive: DEFAULT_OPTIONS, sysfs: root, log }, { debounceMs: 1, tableEvents });
    await watcher.start(events);
    await provider();
    backend.uplink = undefined;
    await eventually(() => backend.uplink !== undefined);
    expect(lines.filter((l) => /nf_tables/.test(l))).toEqual([
      'guestnet: nf_tables events unavailable (cannot open a nf_tables socket: Protocol not supported); re-reading the nftables table every 1 s while the VM has provider links',
    ]);
  });

  test('a failed nf_tables source is replaced by polling', async () => {
    await provider();
    const reads = backend.uplinkReads;
    tableEvents.sink?.failed(new Error('nf_tables event stream ended'));
    await eventually(() => tableEvents.stopped && backend.uplinkReads === reads + 1); // and the look that covers the switch
    backend.uplink = undefined;
    await eventually(() => backend.uplink !== undefined);
    expect(lines.filter((l) => /nf_tables/.test(l))).toEqual([
      'guestnet: warn: nf_tables events failed (nf_tables event stream ended); re-reading the nftables table every 1 s while the VM has provider links',
    ]);
  });
});

describe('the watch command', () => {
  /** A process stand-in whose signals the test emits. */
  const fakeProcess = () => Object.assign(new EventEmitter(), { env: {} });

  test('applies, re-applies on SIGHUP, returns on SIGTERM and lets go of every signal', async () => {
    await watcher.stop(); // this test runs its own
    const proc = fakeProcess();
    const fresh = new FakeBackend(root);
    const log = createLogger({ format: 'human', verbosity: 0, write: (l) => lines.push(l.trimEnd()) });
    const opts = { events: 'poll' as const, pollMs: 10, debounceMs: 1, ipBinary: 'ip' };
    const running = watch(opts, fresh, { derive: DEFAULT_OPTIONS, sysfs: root, log }, proc);
    await eventually(() => fresh.passes.length === 1);
    const reads = fresh.reads.length;
    proc.emit('SIGHUP');
    await eventually(() => fresh.reads.length > reads);
    proc.emit('SIGTERM');
    await expect(running).resolves.toEqual({ signal: 'SIGTERM', events: 'poll (every 10 ms)' });
    expect(['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => proc.listenerCount(s))).toEqual([0, 0, 0]);
    expect(lines).toContain('guestnet: SIGTERM: stopping; the configuration stays in place');
  });

  test('nothing can be configured at start: EnvironmentError naming the cause, and no readiness', async () => {
    await watcher.stop();
    const failing = new FakeBackend(root);
    failing.apply = async (steps) => steps.map((step) => ({ step, error: 'permission denied' }));
    const opts = { events: 'poll' as const, pollMs: 10, debounceMs: 1, ipBinary: 'ip' };
    const log = createLogger({ format: 'human', verbosity: 0, write: (l) => lines.push(l.trimEnd()) });
    await expect(watch(opts, failing, { derive: DEFAULT_OPTIONS, sysfs: root, log }, fakeProcess())).rejects.toThrow(
      /^cannot configure any inter-guest interface \(eth0: permission denied\)$/,
    );
    expect(lines.filter((l) => /ready/.test(l))).toEqual([]);
  });

  test('a link that fails at start is retried; readiness comes once every link is configured', async () => {
    await watcher.stop();
    addLink('eth1', 4, '0a:b3:ec:00:00:04');
    const flaky = new FakeBackend(root);
    const apply = flaky.apply.bind(flaky);
    let failures = 1;
    flaky.apply = async (steps) => (failures-- > 0 ? steps.map((step) => ({ step, error: isLinkStep(step) && step.ifname === 'eth1' ? 'busy' : undefined })) : apply(steps));
    const proc = fakeProcess();
    const opts = { events: 'poll' as const, pollMs: 10, debounceMs: 1, ipBinary: 'ip' };
    const log = createLogger({ format: 'human', verbosity: 0, write: (l) => lines.push(l.trimEnd()) });
    const running = watch(opts, flaky, { derive: DEFAULT_OPTIONS, sysfs: root, log }, proc);
    await eventually(() => lines.some((l) => l.startsWith('guestnet: ready:')));
    expect(lines.some((l) => /not ready: eth1: busy; retrying in 1 s/.test(l))).toBe(true);
    proc.emit('SIGTERM');
    await running;
  });
});
