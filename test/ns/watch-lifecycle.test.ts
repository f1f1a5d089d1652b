import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxIpDir, Netns, veth } from '../helpers/netns';
import { until, WatchProcess, withTimeout } from './watch-process';

// The watcher as a supervised service: readiness, signals, providers that
// go away, links that vanish mid-apply.

const CLIENT_MAC = '0a:b3:ec:00:a5:46';
const PROVIDER_MAC = '0a:b3:ec:80:a5:46';
const METRIC = 1024 + 0xa546;
const CLIENT_STATE = {
  addrs: ['100.64.165.70/32'],
  routes: [`169.254.0.1 dev eth0 metric ${METRIC}`, `default via 169.254.0.1 dev eth0 metric ${METRIC}`].sort(),
};

let app: Netns;
let net: Netns;
const watchers: WatchProcess[] = [];
const start = (ns: Netns, args: string[] = [], env?: NodeJS.ProcessEnv) => {
  const w = new WatchProcess(ns, args, env);
  watchers.push(w);
  return w;
};
const state = (ns: Netns, ifname = 'eth0') => ({ addrs: ns.addrs(ifname), routes: ns.routes() });

beforeEach(() => {
  app = new Netns('wapp');
  net = new Netns('wnet');
  veth(app, 'eth0', CLIENT_MAC, net, 'eth1', PROVIDER_MAC);
});
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
  app.delete();
  net.delete();
});

test('readiness: one newline on fd 3 after the first apply, then fd 3 is closed', async () => {
  const w = start(app);
  await w.ready();
  // Ready means done: the link that was there at start is configured already.
  expect(state(app)).toEqual(CLIENT_STATE);
  expect(await withTimeout(w.notified, 5_000, 'fd 3 to close')).toBe('\n');
  expect(w.child.exitCode).toBeNull();
});

test('SIGHUP re-applies what was flushed by hand; SIGTERM exits 0 and leaves the configuration', async () => {
  // Polling re-lists links only, so the flush stays until SIGHUP (netlink events would repair it at once).
  const w = start(app, ['--events', 'poll']);
  await w.ready();
  app.sh('ip addr flush dev eth0 && ip route flush dev eth0');
  expect(state(app)).toEqual({ addrs: [], routes: [] });
  w.signal('SIGHUP');
  await until('eth0 is configured again', () => JSON.stringify(state(app)) === JSON.stringify(CLIENT_STATE));
  w.signal('SIGTERM');
  expect(await withTimeout(w.exited, 5_000, 'exit')).toEqual({ code: 0, signal: null });
  expect(w.lines(/SIGTERM: stopping/)).toHaveLength(1);
  expect(state(app)).toEqual(CLIENT_STATE);
});

test('SIGINT stops cleanly too', async () => {
  const w = start(app, ['--events', 'ip-monitor', '--backend', 'ip']);
  await w.ready();
  // The `ip monitor` child must not hold the readiness pipe open.
  expect(await withTimeout(w.notified, 5_000, 'fd 3 to close')).toBe('\n');
  w.signal('SIGINT');
  expect(await withTimeout(w.exited, 5_000, 'exit')).toEqual({ code: 0, signal: null });
  expect(state(app)).toEqual(CLIENT_STATE);
});

test('two providers, one goes: the other default route stays and carries traffic', async () => {
  const net2 = new Netns('wnet2');
  try {
    veth(app, 'eth2', '0a:b3:ec:00:a5:47', net2, 'eth1', '0a:b3:ec:80:a5:47');
    const [a, n1, n2] = [start(app), start(net), start(net2)];
    await Promise.all([a.ready(), n1.ready(), n2.ready()]);
    expect(app.ping('169.254.0.1')).toBe(true);
    expect(net.ping('100.64.165.70')).toBe(true);

    net.sh('ip link del eth1'); // the first provider's end, and so app's eth0, go
    await until('app logged the removal', () => a.lines(/eth0: removed \(was client 100\.64\.165\.70/).length === 1);
    await until('net logged the removal', () => n1.lines(/eth1: removed \(was provider 169\.254\.0\.1/).length === 1);
    expect(app.routes()).toEqual([
      `169.254.0.1 dev eth2 metric ${METRIC + 1}`,
      `default via 169.254.0.1 dev eth2 metric ${METRIC + 1}`,
    ].sort());
    expect(app.ping('169.254.0.1')).toBe(true);
    expect(net2.ping('100.64.165.71')).toBe(true);
    for (const w of [a, n1, n2]) expect(w.lines(/error/)).toEqual([]);
  } finally {
    await Promise.all(watchers.splice(1).map((w) => w.stop()));
    net2.delete();
  }
});

test('links that vanish while being configured: one line each, no error, and the watcher goes on', async () => {
  // busybox runs a process per step, so most of these links go mid-apply.
  const bb = busyboxIpDir();
  try {
    const w = start(app, ['--debounce', '0', '--backend', 'ip', '--ip-binary', bb.ip]);
    await w.ready();
    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    const mac = (n: number) => `0a:b3:ec:00:02:${n.toString(16).padStart(2, '0')}`;
    app.sh(ids.map((n) => `ip link add v${n} address ${mac(n)} type veth peer name q${n} && ip link del v${n}`).join('\n'));
    veth(app, 'late0', '0a:b3:ec:00:03:01', app, 'late1', '52:54:00:00:03:01');
    await until('the link added afterwards is configured', () => app.addrs('late0').includes('100.64.3.1/32'));
    expect(w.child.exitCode).toBeNull();
    expect(w.lines(/error/)).toEqual([]);
    for (const n of ids) expect(w.lines(new RegExp(`v${n}: removed`)).length).toBeLessThanOrEqual(1);
    expect(app.routes().filter((r) => /dev v\d/.test(r))).toEqual([]);
  } finally {
    bb.cleanup();
  }
});

test('an explicit --events ip-monitor whose monitor dies ends the watch: exit 1 naming the cause', async () => {
  const w = start(app, ['--events', 'ip-monitor', '--backend', 'ip', '--poll-interval', '50']);
  await w.ready();
  const children = readFileSync(`/proc/${w.pid}/task/${w.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const monitor = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('monitor'));
  if (monitor === undefined) throw new Error(`no ip monitor child among ${children.join(', ')}`);
  process.kill(monitor, 'SIGKILL');
  expect(await withTimeout(w.exited, 5_000, 'exit')).toEqual({ code: 1, signal: null });
  expect(w.lines(/guestnet: error: ip monitor events failed: .*monitor ended/)).toHaveLength(1);
  expect(w.lines(/falling back/)).toEqual([]);
});

test('a netlink queue that overflowed while the watcher was stopped (ENOBUFS) costs nothing, each time', async () => {
  const w = start(app, ['--events', 'netlink', '--verbose']);
  await w.ready();
  await withTimeout(w.notified, 5_000, 'fd 3 (a socket pair) to close');
  const sockets = () => readdirSync(`/proc/${w.pid}/fd`).filter((fd) => readlinkSync(`/proc/${w.pid}/fd/${fd}`).startsWith('socket:')).length;
  const before = sockets();
  app.sh('ip link add c0 type veth peer name d0');
  // Thousands of link notifications, more than the socket's 1 MiB (2 MiB as the kernel counts) can queue.
  const churn = Array.from({ length: 1500 }, () => 'link set c0 up\nlink set c0 down').join('\n');
  for (const round of [1, 2]) {
    w.signal('SIGSTOP');
    try {
      app.sh(`ip -batch - <<'EOF'\n${churn}\nEOF`);
      veth(app, `eth${round}`, `0a:b3:ec:00:00:0${round}`, app, `hw${round}`, `52:54:00:00:00:0${round}`);
    } finally {
      w.signal('SIGCONT');
    }
    await until(`eth${round}, added during overflow ${round}, is configured`, () => app.addrs(`eth${round}`).includes(`100.64.0.${round}/32`));
  }
  // At once, while the new socket's first notifications may still be arriving.
  veth(app, 'eth7', '0a:b3:ec:00:00:07', app, 'hw7', '52:54:00:00:00:07');
  await until('events flow again afterwards', () => app.addrs('eth7').includes('100.64.0.7/32'));
  await until('both overflows are logged', () => w.lines(/receive queue overflowed \(ENOBUFS\); re-reading every link/).length === 2);
  expect(w.lines(/error/)).toEqual([]);
  // Each overflow swapped the event socket for a new one; none is left open.
  expect(sockets()).toBe(before);
});

test('NOTIFY_SOCKET: READY=1 after the first apply, STOPPING=1 on SIGTERM, from the watcher itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gn-notify-'));
  const path = join(dir, 'notify.sock');
  // node cannot receive unix datagrams; python can.
  const receiver = spawn('python3', ['-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print('bound', flush=True)
for _ in range(2):
    data, anc, _f, _a = s.recvmsg(256, socket.CMSG_SPACE(12))
    pid = int.from_bytes(anc[0][2][:4], 'little') if anc else 0
    print(data.decode(), pid, flush=True)
`, path]);
  try {
    let out = '';
    receiver.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await until('the receiver is bound', () => out.includes('bound'));
    const w = start(app, [], { ...process.env, NOTIFY_SOCKET: path });
    await w.ready();
    await until('READY=1 arrived', () => out.includes('READY=1'));
    expect(out).toContain(`READY=1 ${w.pid}`);
    await w.stop();
    await until('STOPPING=1 arrived', () => out.includes('STOPPING=1'));
  } finally {
    receiver.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a --notify-fd that is not open is a usage error (exit 2)', () => {
  const r = app.guestnet(['watch', '--notify-fd', '9']);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe('guestnet: error: --notify-fd: "9" is not an open descriptor\n');
});

test('nothing can be configured at all (no ip binary): exit 1 at start, naming the cause', () => {
  const r = app.guestnet(['watch', '--backend', 'ip', '--ip-binary', '/nonexistent/ip']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('guestnet: eth0: error: cannot run "/nonexistent/ip": not found');
});
