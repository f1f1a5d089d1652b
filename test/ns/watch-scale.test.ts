import { spawn, type ChildProcess } from 'node:child_process';
import { Netns } from '../helpers/netns';
import { until, WatchProcess } from './watch-process';

// The incremental watch among a thousand links: an event touches its link
// only. A monitor subscribed in the test's namespace sees every change the
// kernel makes, so "the others stay untouched" is checked, not assumed.

const N = 1000;
const mac = (i: number) => `0a:b3:ec:80:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const client = (i: number) => `100.64.${i >> 8}.${i & 255}`;

let net: Netns;
let hw: Netns;
let w: WatchProcess;
let monitor: ChildProcess | undefined;

/** `count` provider ends `prefix<i>` in net (peers in hw), all in one `ip -batch`. */
function addPairs(prefix: string, from: number, count: number): void {
  const lines = Array.from({ length: count }, (_, k) => from + k).map(
    (i) => `link add ${prefix}${i} address ${mac(i)} type veth peer name h${prefix}${i} netns ${hw.name}`,
  );
  net.run('ip', ['-batch', '-'], lines.join('\n') + '\n');
}

/** Provider host routes as "addr dev", for exact comparisons. */
function hostRoutes(): string[] {
  const out = JSON.parse(net.sh('ip -j -4 route show table main')) as { dst: string; dev: string }[];
  return out.filter((r) => r.dst.startsWith('100.64.')).map((r) => `${r.dst} ${r.dev}`).sort();
}

/** Every interface name the kernel's change notifications mention while `fn` runs. */
async function touchedBy(fn: () => Promise<void>): Promise<Set<string>> {
  const child = spawn('ip', ['-n', net.name, '-o', '-4', 'monitor', 'link', 'address', 'route']);
  monitor = child;
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  await new Promise((r) => setTimeout(r, 300)); // ip subscribes a moment after exec
  await fn();
  await new Promise((r) => setTimeout(r, 500)); // late notifications of fn's changes
  child.kill();
  monitor = undefined;
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(?:Deleted )?\d+: ([^:@\s]+)/.exec(line) ?? / dev ([^\s]+)/.exec(line);
    if (m) names.add(m[1]);
    else if (line.trim()) names.add(`?${line}`);
  }
  return names;
}

beforeAll(async () => {
  net = new Netns('snet');
  hw = new Netns('shw');
  addPairs('p', 0, N);
  w = new WatchProcess(net, ['--events', 'netlink']);
  await w.ready(120_000);
}, 180_000);
afterAll(async () => {
  monitor?.kill();
  await w?.stop();
  net?.delete();
  hw?.delete();
});

test('the first pass configured all of them', () => {
  expect(hostRoutes()).toHaveLength(N);
  expect(w.lines(/configured as provider/)).toHaveLength(N);
});

test('add, remove, rename and MAC changes touch those links only; removal cleans up exactly', async () => {
  const before = hostRoutes();
  const names = await touchedBy(async () => {
    addPairs('p', N, 1);
    net.sh('ip link del p5');
    net.sh('ip link set p7 down && ip link set p7 name r7');
    net.sh(`ip link set p9 down && ip link set p9 address ${mac(0xf09)} && ip link set p9 up`);
    net.sh('ip link set p11 address 52:54:00:00:00:0b');
    await until('all four are handled', () => {
      const r = hostRoutes();
      return r.includes(`${client(N)} p${N}`) && r.includes(`${client(7)} r7`) && r.includes(`${client(0xf09)} p9`)
        && !r.some((x) => x.endsWith(' p11'));
    }, 20_000);
  });
  // Only the five links acted on (and the new one) appear in the kernel's notifications.
  const allowed = new Set([`p${N}`, 'p11', 'p5', 'p7', 'p9', 'r7']);
  expect([...names].filter((n) => !allowed.has(n))).toEqual([]);
  expect(names.has('p5') && names.has('r7')).toBe(true); // the monitor did listen
  const gone = [`${client(5)} p5`, `${client(7)} p7`, `${client(9)} p9`, `${client(11)} p11`];
  const added = [`${client(N)} p${N}`, `${client(7)} r7`, `${client(0xf09)} p9`];
  expect(hostRoutes()).toEqual([...before.filter((r) => !gone.includes(r)), ...added].sort());
  expect(net.addrs('p11')).toEqual([]);
  expect(w.lines(/error/)).toEqual([]);
}, 60_000);

test('a new client link someone configured first, with stale routes, ends with exactly guestnet\'s; no other link is touched', async () => {
  // Its routes are confirmed by look-ups that walk past a thousand `local 169.254.0.1`
  // entries (one per provider link); the stale lower metrics must make it read them all.
  const metric = 1024 + 0xf101;
  const routesOf = (dev: string) => net.routes().filter((r) => r.includes(` dev ${dev} `));
  const names = await touchedBy(async () => {
    w.signal('SIGSTOP');
    try {
      net.sh([
        `ip link add c1 address 0a:b3:ec:00:f1:01 type veth peer name hc1 netns ${hw.name}`,
        'ip link set c1 up',
        'ip route add 169.254.0.1/32 dev c1 metric 5 proto 179',
        'ip route add default via 169.254.0.1 dev c1 metric 5 proto 179',
      ].join(' && '));
    } finally {
      w.signal('SIGCONT');
    }
    await until('c1 holds guestnet\'s routes only', () =>
      JSON.stringify(routesOf('c1')) === JSON.stringify([`169.254.0.1 dev c1 metric ${metric}`, `default via 169.254.0.1 dev c1 metric ${metric}`].sort()), 20_000);
  });
  expect(net.addrs('c1')).toEqual(['100.64.241.1/32']);
  expect([...names]).toEqual(['c1']);
  expect(w.lines(/error/)).toEqual([]);
}, 60_000);

test('a burst that overflows the event queue (ENOBUFS) ends in a resync that configures every new link', async () => {
  w.signal('SIGSTOP');
  try {
    addPairs('q', 2000, N);
  } finally {
    w.signal('SIGCONT');
  }
  await until('all new links are configured', () => hostRoutes().filter((r) => / q\d+$/.test(r)).length === N, 60_000);
  await until('the overflow is logged', () => w.lines(/receive queue overflowed \(ENOBUFS\); re-reading every link/).length >= 1);
  expect(w.lines(/error/)).toEqual([]);
}, 90_000);

test('SIGHUP re-applies everything; with nothing to repair, the kernel sees no change at all', async () => {
  const configured = () => w.lines(/configured as provider/).length;
  const seen = configured();
  const links = hostRoutes().length;
  const names = await touchedBy(async () => {
    w.signal('SIGHUP');
    await until('the full pass is over', () => configured() - seen >= links, 30_000);
  });
  expect([...names]).toEqual([]);
}, 60_000);
