// The netlink backend and channel against a scripted fake kernel: no
// sockets, no bun. Kernel answers are built with the same encoder, or are
// real captured bytes (see netlink-message.test.ts for their provenance).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Link } from '../../agent/convention/types';
import { createBackend } from '../../agent/apply/select-backend';
import { EnvironmentError } from '../../agent/errors';
import { createNetlinkBackend, NetlinkBackend } from '../../agent/netlink/backend';
import { NetlinkChannel } from '../../agent/netlink/channel';
import {
  decodeAttrs, decodeMessages, decodeString, encodeMessage, stringAttr, NLM_F_DUMP, NLMSG_DONE, NLMSG_ERROR, NLM_F_CAPPED, NLM_F_DUMP_INTR,
  NLM_F_ACK, NLM_F_MULTI, RTM_GETADDR, RTM_GETLINK, RTM_GETROUTE, type NlMessage,
} from '../../agent/netlink/message';
import type { NetlinkSocket } from '../../agent/netlink/socket';
import { SyscallError } from '../../agent/netlink/socket';
import type { Step } from '../../agent/plan/steps';

const LINKS: Record<string, number> = { lo: 1, v1: 2, v0: 3 };

const int32 = (n: number): Uint8Array => new Uint8Array(new Int32Array([n]).buffer);

/** NLMSG_ERROR answering `req` with -errno, echoing only its header (capped). */
function ack(req: NlMessage, errno: number): Uint8Array {
  const echoed = encodeMessage(req.type, req.flags, req.seq, new Uint8Array(0));
  return encodeMessage(NLMSG_ERROR, NLM_F_CAPPED, req.seq, concat(int32(-errno), echoed));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) (out.set(p, off), (off += p.length));
  return out;
}

/** Rewrites every message's sequence number in a captured datagram. */
function withSeq(hex: string, seq: number, flags = -1): Uint8Array {
  const buf = Uint8Array.from(Buffer.from(hex, 'hex'));
  const dv = new DataView(buf.buffer);
  for (let off = 0; off < buf.length; off += dv.getUint32(off, true)) {
    dv.setUint32(off + 8, seq, true);
    if (flags >= 0) dv.setUint16(off + 6, flags, true);
  }
  return buf;
}

function linkDump(seq: number): Uint8Array[] {
  const entries = Object.entries(LINKS).map(([name, index]) => {
    const ifinfo = concat(new Uint8Array(4), int32(index), new Uint8Array(8));
    return encodeMessage(16, NLM_F_MULTI, seq, ifinfo, [stringAttr(3, name)]);
  });
  return [concat(...entries), encodeMessage(NLMSG_DONE, NLM_F_MULTI, seq, int32(0))];
}

/** The answer to RTM_GETLINK by IFLA_IFNAME, or else by ifi_index: that link, or ENODEV. */
function linkNamed(req: NlMessage): Uint8Array[] {
  const byName = decodeAttrs(req.payload, 16).get(3);
  const asked = new DataView(req.payload.buffer, req.payload.byteOffset).getInt32(4, true);
  const name = byName ? decodeString(byName) : Object.keys(LINKS).find((n) => LINKS[n] === asked) ?? '';
  const index = LINKS[name];
  if (index === undefined) return [ack(req, 19)];
  const ifinfo = concat(new Uint8Array(4), int32(index), new Uint8Array(8));
  return [encodeMessage(16, 0, req.seq, ifinfo, [stringAttr(3, name)])];
}

/**
 * A fake kernel: answers each request of a datagram in order through
 * `answer`, queueing datagrams; a plain errno is acked as the kernel does,
 * when the request asks for an ack or failed.
 */
class FakeKernel implements NetlinkSocket {
  readonly sent: NlMessage[] = [];
  readonly datagrams: number[] = []; // requests per datagram sent
  private readonly queue: Uint8Array[] = [];
  inFlight = 0;
  maxInFlight = 0;
  closed = false;

  constructor(private readonly answer: (req: NlMessage) => Uint8Array[] | number) {}

  send(buf: Uint8Array): void {
    const reqs = decodeMessages(buf.slice());
    this.datagrams.push(reqs.length);
    for (const req of reqs) this.handle(req);
  }

  private handle(req: NlMessage): void {
    this.sent.push(req);
    if (req.type === RTM_GETLINK) return void this.queue.push(...(req.flags & NLM_F_DUMP ? linkDump(req.seq) : linkNamed(req)));
    const result = this.answer(req);
    if (typeof result !== 'number') this.queue.push(...result);
    else if (result !== 0 || req.flags & NLM_F_ACK) this.queue.push(ack(req, result));
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
  }

  recv(): Uint8Array {
    const next = this.queue.shift();
    if (!next) throw new Error('fake kernel: recv with nothing queued (would block)');
    this.inFlight = 0;
    return next;
  }

  recvQueued(): Uint8Array | undefined {
    return this.queue.shift();
  }

  close(): void {
    this.closed = true;
  }
}

const v0 = 'v0';
const ADDR = { address: '100.64.165.70', prefix: 32 };
const HOST = { dst: '169.254.0.1/32', metric: 0 };
const DEFAULT = { dst: 'default', via: '169.254.0.1', metric: 0 };

let dir: string;
let forwardingPath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gn-nl-'));
  forwardingPath = join(dir, 'ip_forward');
  writeFileSync(forwardingPath, '0\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('NetlinkBackend.apply', () => {
  test('the link asked for by name, then every step\'s request in one datagram, distinct sequence numbers', async () => {
    const kernel = new FakeKernel(() => 0);
    const backend = new NetlinkBackend(kernel, { forwardingPath });
    const steps: Step[] = [
      { action: 'link-up', ifname: v0 },
      { action: 'addr-add', ifname: v0, addr: ADDR },
      { action: 'route-add', ifname: v0, route: HOST },
      { action: 'route-add', ifname: v0, route: DEFAULT },
      { action: 'forwarding-on' },
    ];
    expect(await backend.apply(steps)).toEqual(steps.map((step) => ({ step })));
    expect(kernel.sent.map((m) => m.type)).toEqual([RTM_GETLINK, 16, 20, 24, 24]);
    expect(new Set(kernel.sent.map((m) => m.seq)).size).toBe(kernel.sent.length);
    // All four went in one datagram, only the last asking for an ack.
    expect(kernel.datagrams).toEqual([1, 4]);
    expect(kernel.sent.slice(1).map((m) => (m.flags & NLM_F_ACK) !== 0)).toEqual([false, false, false, true]);
    expect(readFileSync(forwardingPath, 'utf8')).toBe('1\n');
  });

  test('link-set: sysctls written before any request goes, the group in the datagram ahead of link-up; no group, no request', async () => {
    const procSys = join(dir, 'sys');
    mkdirSync(join(procSys, 'net/ipv4/conf/v0'), { recursive: true });
    writeFileSync(join(procSys, 'net/ipv4/conf/v0/rp_filter'), '0\n');
    let rpFilterAtFirstRequest = '';
    const kernel = new FakeKernel(() => {
      rpFilterAtFirstRequest ||= readFileSync(join(procSys, 'net/ipv4/conf/v0/rp_filter'), 'utf8');
      return 0;
    });
    const steps: Step[] = [
      // accept_ra: no net/ipv6/conf/v0 (no IPv6 on the link) is success.
      { action: 'link-set', ifname: v0, group: 0x676e, sysctls: [{ sysctl: 'ipv4/rp_filter', value: '1' }, { sysctl: 'ipv6/accept_ra', value: '0' }] },
      { action: 'link-up', ifname: v0 },
      { action: 'link-set', ifname: v0, sysctls: [] },
    ];
    const known = new Map([[v0, { name: v0, ifindex: 3, mac: '0a:b3:ec:80:a5:46', type: 1, up: false, group: 0 }]]);
    expect(await new NetlinkBackend(kernel, { forwardingPath, procSys }).apply(steps, known)).toEqual(steps.map((step) => ({ step })));
    expect(rpFilterAtFirstRequest).toBe('1\n');
    expect(kernel.sent.map((m) => m.type)).toEqual([16, 16]);
    expect(kernel.datagrams).toEqual([2]);
    const group = decodeAttrs(kernel.sent[0].payload, 16).get(27);
    expect(group && Buffer.from(group).readUInt32LE(0)).toBe(0x676e);
  });

  test('"exists" on add and "not found" on delete are success; other errors are causes', async () => {
    const answers = [17, 3, 99, 2, 1, 17];
    const kernel = new FakeKernel(() => answers.shift() ?? 0);
    const steps: Step[] = [
      { action: 'addr-add', ifname: v0, addr: ADDR },
      { action: 'route-del', ifname: v0, route: HOST },
      { action: 'addr-del', ifname: v0, addr: ADDR },
      { action: 'route-del', ifname: v0, route: DEFAULT },
      { action: 'route-add', ifname: v0, route: DEFAULT },
      { action: 'addr-del', ifname: v0, addr: ADDR },
    ];
    const outcomes = await new NetlinkBackend(kernel, { forwardingPath }).apply(steps);
    expect(outcomes.map((o) => o.error)).toEqual([
      undefined, undefined, undefined, undefined,
      'permission denied (run as root or with CAP_NET_ADMIN)',
      'file exists',
    ]);
  });

  test('the kernel\'s extended-ack text is kept, and acks may come back in one datagram', async () => {
    const pending: NlMessage[] = [];
    const kernel = new FakeKernel((req) => {
      pending.push(req);
      if (pending.length < 2) return [];
      // Answer both at once, the later one first, the second with -EINVAL + text.
      const text = encodeMessage(0, 0, 0, new Uint8Array(0), [stringAttr(1, 'Nexthop has invalid gateway')]);
      const err = concat(int32(-22), encodeMessage(pending[1].type, 0, pending[1].seq, new Uint8Array(0)), text.subarray(16));
      const withText = encodeMessage(NLMSG_ERROR, NLM_F_CAPPED | 0x200, pending[1].seq, err);
      return [concat(withText, ack(pending[0], 0))];
    });
    const steps: Step[] = [
      { action: 'route-add', ifname: v0, route: HOST },
      { action: 'route-add', ifname: v0, route: { dst: '10.0.0.0/8', via: '192.0.2.1', metric: 5 } },
    ];
    const outcomes = await new NetlinkBackend(kernel, { forwardingPath }).apply(steps);
    expect(outcomes).toEqual([
      { step: steps[0] },
      { step: steps[1], error: 'invalid argument: Nexthop has invalid gateway' },
    ]);
  });

  test('a missing interface fails its steps without a request; the others still run', async () => {
    const kernel = new FakeKernel(() => 0);
    const steps: Step[] = [
      { action: 'link-up', ifname: 'gone0' },
      { action: 'link-up', ifname: v0 },
      { action: 'route-add', ifname: v0, route: { dst: '300.1.2.3/32', metric: 0 } },
    ];
    const outcomes = await new NetlinkBackend(kernel, { forwardingPath }).apply(steps);
    expect(outcomes).toEqual([
      { step: steps[0], error: 'no such interface (it vanished)' },
      { step: steps[1] },
      { step: steps[2], error: 'invalid IPv4 address "300.1.2.3"' },
    ]);
    expect(kernel.sent.map((m) => m.type)).toEqual([RTM_GETLINK, RTM_GETLINK, 16]);
  });

  test('linkAt asks the kernel for that one link by ifindex; none is undefined', () => {
    const kernel = new FakeKernel(() => 0);
    const backend = new NetlinkBackend(kernel, { forwardingPath });
    expect(backend.linkAt(3)).toEqual(expect.objectContaining({ name: 'v0', ifindex: 3 }));
    expect(backend.linkAt(99)).toBeUndefined();
    expect(kernel.sent.map((m) => [m.type, m.flags & NLM_F_DUMP])).toEqual([[RTM_GETLINK, 0], [RTM_GETLINK, 0]]);
  });

  test('the links the plan was made for give the indexes: no lookup, and a link they lack fails its steps', async () => {
    const kernel = new FakeKernel(() => 0);
    const known = new Map([['v9', { name: 'v9', ifindex: 9, mac: '0a:b3:ec:00:a5:46', type: 1, up: false, group: 0 }]]);
    const steps: Step[] = [
      { action: 'link-up', ifname: 'v9' },
      { action: 'link-up', ifname: v0 },
    ];
    const outcomes = await new NetlinkBackend(kernel, { forwardingPath }).apply(steps, known);
    expect(outcomes).toEqual([{ step: steps[0] }, { step: steps[1], error: 'no such interface (it vanished)' }]);
    expect(kernel.sent.map((m) => [m.type, m.payload[4]])).toEqual([[16, 9]]);
  });

  test('links are asked for by name up to 8 of them; more take one RTM_GETLINK dump', async () => {
    const kernel = new FakeKernel(() => 0);
    const steps = (n: number): Step[] => Array.from({ length: n }, (_, i) => ({ action: 'link-up', ifname: i === 0 ? v0 : `x${i}` }));
    await new NetlinkBackend(kernel, { forwardingPath }).apply(steps(8));
    expect(kernel.sent.filter((m) => m.type === RTM_GETLINK).map((m) => m.flags & NLM_F_DUMP)).toEqual(Array(8).fill(0));
    kernel.sent.length = 0;
    await new NetlinkBackend(kernel, { forwardingPath }).apply(steps(9));
    expect(kernel.sent.filter((m) => m.type === RTM_GETLINK).map((m) => m.flags & NLM_F_DUMP)).toEqual([NLM_F_DUMP]);
  });

  test('a failed send becomes the error of every step in its datagram', async () => {
    const kernel = new FakeKernel(() => 0);
    const send = kernel.send.bind(kernel);
    let calls = 0;
    kernel.send = (buf) => {
      if (++calls === 2) throw new SyscallError('send', 105, 'no buffer space available');
      send(buf);
    };
    const steps: Step[] = [
      { action: 'link-up', ifname: v0 },
      { action: 'addr-add', ifname: v0, addr: ADDR },
    ];
    const outcomes = await new NetlinkBackend(kernel, { forwardingPath }).apply(steps);
    expect(outcomes.map((o) => o.error)).toEqual(['no buffer space available', 'no buffer space available']);
  });

  test('an ack that never comes fails the steps it would have vouched for, not the whole apply', async () => {
    let sentChanges = 0;
    // The first datagram's last request is acked, the second's never.
    const kernel = new FakeKernel(() => (++sentChanges <= 64 ? 0 : []));
    const recv = kernel.recv.bind(kernel);
    kernel.recv = () => {
      try {
        return recv();
      } catch {
        throw new SyscallError('recv', 11, 'no answer from the kernel (timed out)');
      }
    };
    const steps: Step[] = Array.from({ length: 66 }, (_, i) => ({ action: 'route-add', ifname: v0, route: { dst: `100.64.${i}.1/32`, metric: 0 } }));
    const outcomes = await new NetlinkBackend(kernel, { forwardingPath }).apply(steps);
    expect(outcomes.map((o) => o.error)).toEqual([
      ...Array(64).fill(undefined),
      ...Array(2).fill('resource temporarily unavailable: no answer from the kernel'),
    ]);
  });

  test('large plans are sent in bounded windows', async () => {
    const kernel = new FakeKernel(() => 0);
    const steps: Step[] = Array.from({ length: 150 }, (_, i) => ({
      action: 'route-add' as const,
      ifname: v0,
      route: { dst: `100.64.${i}.1/32`, metric: 0 },
    }));
    const outcomes = await new NetlinkBackend(kernel, { forwardingPath }).apply(steps);
    expect(outcomes.every((o) => o.error === undefined)).toBe(true);
    expect(kernel.datagrams).toEqual([1, 64, 64, 22]);
    expect(kernel.maxInFlight).toBe(64);
  });

  test('forwarding-on alone needs no netlink at all; a write failure is reported', async () => {
    const kernel = new FakeKernel(() => 0);
    const missing = new NetlinkBackend(kernel, { forwardingPath: join(dir, 'no', 'such') });
    const [outcome] = await missing.apply([{ action: 'forwarding-on' }]);
    expect(outcome.error).toMatch(/ENOENT|no such file/);
    expect(kernel.sent).toHaveLength(0);
  });
});

describe('NetlinkBackend.readState', () => {
  // Real dump answers captured from the kernel (v0 is ifindex 3).
  const ROUTES =
    '3c00000018002200f63d0a6b7f7e000002000000fe0300010000000008000f00fe000000080006006400000008000500a9fe000108000400030000' +
    '003400000018002200f63d0a6b7f7e000002200000fe03fd010000000008000f00fe00000008000100a9fe00010800040003000000';
  const ADDRS =
    '4c00000014000200f73d0a6b7b7e00000220800003000000080001006440a546080002006440a5460700030076300000' +
    '080008008000000014000600ffffffffffffffff1e8300001e830000';
  const DONE = '1400000003000200f73d0a6b7b7e000000000000';
  const link = (name: string): Link => ({ name, ifindex: LINKS[name], mac: '0a:b3:ec:00:a5:46', type: 1, up: true, group: 0 });

  function dumper(interruptFirst = false): FakeKernel {
    let routeDumps = 0;
    return new FakeKernel((req) => {
      if (req.type === RTM_GETADDR) return [withSeq(ADDRS, req.seq), withSeq(DONE, req.seq)];
      if (req.type !== RTM_GETROUTE) throw new Error(`unexpected request ${req.type}`);
      const intr = interruptFirst && routeDumps++ === 0;
      const flags = intr ? NLM_F_MULTI | NLM_F_DUMP_INTR : NLM_F_MULTI;
      return [withSeq(ROUTES, req.seq, flags), withSeq(DONE, req.seq, flags)];
    });
  }

  test('addresses, main-table routes, sysctls and forwarding of the links asked about', async () => {
    writeFileSync(forwardingPath, '1\n');
    const procSys = join(dir, 'sys');
    mkdirSync(join(procSys, 'net/ipv4/conf/v0'), { recursive: true });
    writeFileSync(join(procSys, 'net/ipv4/conf/v0/rp_filter'), '2\n');
    const backend = new NetlinkBackend(dumper(), { forwardingPath, procSys });
    const state = await backend.readState([link('v0'), link('v1')]);
    expect(state.forwarding).toBe(true);
    expect(state.links.get('v0')).toEqual({
      addrs: [ADDR],
      routes: [{ dst: 'default', via: '169.254.0.1', metric: 100, proto: 3 }, { ...HOST, proto: 3 }],
      // No net/ipv6/conf/v0 here: those sysctls are left out.
      sysctls: { 'ipv4/rp_filter': '2' },
    });
    expect(state.links.get('v1')).toEqual({ addrs: [], routes: [], sysctls: {} });
    expect([...state.links.keys()]).toEqual(['v0', 'v1']);
  });

  test('a link that is down has its addresses read but no route dump (the kernel keeps no routes on it)', async () => {
    const kernel = dumper();
    const state = await new NetlinkBackend(kernel, { forwardingPath, procSys: dir }).readState([{ ...link('v0'), up: false }]);
    expect(state.links.get('v0')).toEqual({ addrs: [ADDR], routes: [], sysctls: {} });
    expect(kernel.sent.map((m) => m.type)).toEqual([RTM_GETADDR]);
  });

  test('a dump interrupted by a concurrent change is repeated', async () => {
    const kernel = dumper(true);
    const state = await new NetlinkBackend(kernel, { forwardingPath }).readState([link('v0')]);
    expect(state.links.get('v0')?.routes).toHaveLength(2);
    expect(kernel.sent.map((m) => m.type)).toEqual([RTM_GETADDR, RTM_GETROUTE, RTM_GETROUTE]);
  });

  test('a dump answered with an error throws it', async () => {
    const kernel = new FakeKernel(() => 1);
    await expect(new NetlinkBackend(kernel, { forwardingPath }).readState([link('v0')])).rejects.toThrow(
      /permission denied/,
    );
  });
});

describe('NetlinkChannel', () => {
  test('ignores stale answers to earlier requests', () => {
    const kernel = new FakeKernel((req) => [ack({ ...req, seq: req.seq - 1 }, 17), ack(req, 0)]);
    expect(new NetlinkChannel(kernel, 41).transact(1, () => encodeMessage(16, 5, 0, new Uint8Array(16)))).toEqual([
      { errno: 0 },
    ]);
    expect(kernel.sent[0].seq).toBe(42);
  });
});

describe('createNetlinkBackend', () => {
  test('refuses to run outside bun, without loading bun:ffi', async () => {
    await expect(createNetlinkBackend()).rejects.toThrow(EnvironmentError);
    await expect(createNetlinkBackend()).rejects.toThrow(/needs the bun runtime/);
  });

  test('an explicit --backend netlink that cannot be had is an error; auto falls back to ip', async () => {
    await expect(createBackend('netlink', 'ip', '/sys/class/net')).rejects.toThrow(EnvironmentError);
    expect((await createBackend('auto', 'ip', '/sys/class/net')).name).toBe('ip (iproute2)');
  });

  test('close closes the socket', () => {
    const kernel = new FakeKernel(() => 0);
    new NetlinkBackend(kernel).close();
    expect(kernel.closed).toBe(true);
  });
});
