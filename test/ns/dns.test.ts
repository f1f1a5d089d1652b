import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIG_TXT, DEAD, DnsTopology, GATEWAY, RESOLVERS, status, UPLINK } from './dns-topology';
import { until, type WatchProcess } from './watch-process';

// `guestnet dns` between a client and the upstream host's dnsmasq (SPEC §10),
// asked with dig from the client's namespace and from the LAN.

jest.setTimeout(60_000);

let topo: DnsTopology;
let dns: WatchProcess;

beforeAll(async () => {
  topo = new DnsTopology();
  dns = topo.startDns();
  await dns.ready();
});

afterAll(async () => {
  await dns?.stop();
  topo?.delete();
});

const short = (args: readonly string[]): string => topo.dig(['+short', ...args]).trim();
const python = (script: string): string => topo.client.sh(`python3 -c '${script}'`);

describe('answers a client', () => {
  test('an A record over UDP and over TCP, as the upstream says', () => {
    expect(short(['www.example.test'])).toBe(RESOLVERS.first.www);
    expect(short(['+tcp', 'www.example.test'])).toBe(RESOLVERS.first.www);
  });

  test('NXDOMAIN relayed as such', () => {
    expect(status(topo.dig(['nope.example.test']))).toBe('NXDOMAIN');
  });

  test('a TXT answer too big for UDP: truncated over UDP, whole over TCP', () => {
    const udp = topo.dig(['+ignore', '+bufsize=512', BIG_TXT, 'TXT']);
    expect(udp).toMatch(/flags: qr[a-z ]* tc/);
    const fallback = topo.dig(['+bufsize=512', BIG_TXT, 'TXT']);
    expect(fallback).toMatch(/Truncated, retrying in TCP mode/);
    expect(fallback).toContain('a'.repeat(250));
    expect(fallback).toContain('f'.repeat(250));
  });
});

describe('follows the upstreams', () => {
  afterEach(() => topo.writeResolvConf(RESOLVERS.first.address));

  test('resolv.conf rewritten in place, then replaced by rename', async () => {
    topo.writeResolvConf(RESOLVERS.second.address);
    await until('the second resolver answers', () => short(['www.example.test']) === RESOLVERS.second.www);
    topo.renameResolvConf(RESOLVERS.first.address);
    await until('the first resolver answers again', () => short(['www.example.test']) === RESOLVERS.first.www);
  });

  test('a dead first nameserver: the next one answers', async () => {
    topo.writeResolvConf(DEAD, RESOLVERS.second.address);
    await until('the second resolver answers', () => short(['www.example.test']) === RESOLVERS.second.www);
  });

  test('no upstream answers: SERVFAIL over UDP and TCP within dig\'s 3 s, and the state file says why', async () => {
    topo.writeResolvConf(DEAD);
    await until('the state file names the dead upstream', () => readState().upstreams.join() === DEAD);
    expect(status(topo.dig(['www.example.test']))).toBe('SERVFAIL');
    expect(status(topo.dig(['+tcp', 'www.example.test']))).toBe('SERVFAIL');
    await until('the failure is in the state file', () => readState().lastFailure?.upstream === DEAD);
  });
});

const readState = (): { upstreams: string[]; lastFailure?: { upstream: string }; listening: string } =>
  JSON.parse(readFileSync(join(topo.dir, 'state', 'state.json'), 'utf8'));

describe('upstreams that refuse the connection (ICMP port unreachable)', () => {
  test('a closed port first: the next upstream answers; only closed ports: SERVFAIL; it keeps running', async () => {
    const closed = `${RESOLVERS.first.address}:5399`;
    const port = ['-p', '5301'];
    const mixed = topo.startDns(['--listen', `${GATEWAY}:5301`, '--upstream', closed, '--upstream', RESOLVERS.second.address], 'mixed');
    try {
      await mixed.ready();
      for (let i = 0; i < 20; i++) expect(short([...port, `www.example.test`])).toBe(RESOLVERS.second.www);
    } finally {
      await mixed.stop();
    }
    const dead = topo.startDns(['--listen', `${GATEWAY}:5301`, '--upstream', closed], 'closed');
    try {
      await dead.ready();
      for (let i = 0; i < 5; i++) expect(status(topo.dig([...port, 'www.example.test']))).toBe('SERVFAIL');
      expect(dead.child.exitCode).toBeNull();
    } finally {
      await dead.stop();
    }
  });
});

describe('answers only clients', () => {
  test('a LAN host asking the gateway address (routed through the netvm) gets nothing', () => {
    expect(status(topo.dig(['www.example.test'], topo.lan))).toBe('no answer');
    expect(status(topo.dig(['+tcp', 'www.example.test'], topo.lan))).toBe('no answer');
  });

  test('nor does anyone asking the uplink address', () => {
    const out = topo.lan.run('dig', ['+tries=1', '+time=2', `@${UPLINK}`, 'www.example.test']).stdout;
    expect(status(out)).toBe('no answer');
  });

  test('the client itself still gets its answers', () => {
    expect(short(['www.example.test'])).toBe(RESOLVERS.first.www);
  });
});

describe('hostile bytes cost bounded memory and never stop it', () => {
  test('garbage datagrams, a response posing as a query, short and oversized TCP lengths, half-open connections', () => {
    python(`
import socket, os
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in (0, 1, 11, 12, 300, 1400):
    u.sendto(os.urandom(n), ("${GATEWAY}", 53))
u.sendto(bytes([0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0]) + b"\\x03www\\x07example\\x04test\\x00\\x00\\x01\\x00\\x01", ("${GATEWAY}", 53))
held = []
for payload in (b"\\x00\\x05hello", b"\\xff\\xff" + os.urandom(1000), os.urandom(3000), b"\\x00"):
    t = socket.create_connection(("${GATEWAY}", 53))
    t.sendall(payload)
    held.append(t)
for i in range(100):
    try:
        held.append(socket.create_connection(("${GATEWAY}", 53), timeout=2))
    except OSError:
        pass
`);
    expect(short(['www.example.test'])).toBe(RESOLVERS.first.www);
    expect(short(['+tcp', 'www.example.test'])).toBe(RESOLVERS.first.www);
    expect(dns.child.exitCode).toBeNull();
  });

  test('peak memory stays bounded (VmHWM under 200 MiB)', () => {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${dns.pid}/status`, 'utf8'))?.[1];
    expect(Number(hwm)).toBeLessThan(200 * 1024);
  });
});

describe('privileges', () => {
  test('after binding it runs as nobody with no capability', () => {
    const procStatus = readFileSync(`/proc/${dns.pid}/status`, 'utf8');
    const nobody = topo.netvm.sh('id -u nobody').trim();
    expect(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(procStatus)?.slice(1)).toEqual([nobody, nobody, nobody, nobody]);
    expect(/^CapEff:\s+(\w+)/m.exec(procStatus)?.[1]).toBe('0000000000000000');
    expect(/^CapPrm:\s+(\w+)/m.exec(procStatus)?.[1]).toBe('0000000000000000');
  });

  test('the state file says where it listens and as whom', () => {
    expect(readState()).toMatchObject({ listening: `${GATEWAY}:53`, user: 'nobody', pid: dns.pid });
  });
});

describe('a client over its rate limit', () => {
  test('gets answers up to the limit, the rest are dropped', async () => {
    const limited = topo.startDns(['--listen', `${GATEWAY}:5300`, '--rate-limit', '5'], 'limited');
    try {
      await limited.ready();
      const answered = python(`
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
q = lambda i: bytes([i >> 8, i & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]) + b"\\x03www\\x07example\\x04test\\x00\\x00\\x01\\x00\\x01"
for i in range(50):
    u.sendto(q(i), ("${GATEWAY}", 5300))
n = 0
try:
    while True:
        u.recv(600)
        n += 1
except OSError:
    pass
print(n)
`);
      expect(Number(answered)).toBeGreaterThanOrEqual(5);
      expect(Number(answered)).toBeLessThan(50);
    } finally {
      await limited.stop();
    }
  });
});
