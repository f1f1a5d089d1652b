import { append, frame, splitFrames } from '../../agent/dns/frames';
import { isClientAddress, RateLimiter } from '../../agent/dns/limits';
import { parseEndpoint, parseResolvConf } from '../../agent/dns/upstreams';
import { lookupUser } from '../../agent/dns/users';
import { answers, idOf, parseQuery, refusal, refuses, servfail, setId } from '../../agent/dns/wire';
import { UsageError } from '../../agent/errors';

// The resolver's pure parts, on bytes: the wire codec, TCP framing, the
// limits, the upstream list.

/** www.example.test A IN */
const QUESTION = [3, ...Buffer.from('www'), 7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0, 0, 1, 0, 1];
const query = (id = 0x1234, flags = [0x01, 0x00]) => new Uint8Array([id >> 8, id & 0xff, ...flags, 0, 1, 0, 0, 0, 0, 0, 0, ...QUESTION]);
/** The answer dnsmasq gives: QR, RD, RA, one A record behind a pointer to the question. */
const answer = (id: number, rcode = 0) =>
  new Uint8Array([id >> 8, id & 0xff, 0x81, 0x80 | rcode, 0, 1, 0, 1, 0, 0, 0, 0, ...QUESTION, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 7]);

describe('parseQuery', () => {
  test('a query with one question: its ID and the question bytes', () => {
    const q = parseQuery(query());
    expect(q?.id).toBe(0x1234);
    expect(Array.from(q?.question ?? [])).toEqual(QUESTION);
  });
  test.each([
    ['empty', new Uint8Array(0)],
    ['a header only', query().subarray(0, 12)],
    ['a response', answer(1)],
    ['two questions', (() => { const q = query(); q[5] = 2; return q; })()],
    ['a name running past the end', query().subarray(0, 20)],
    ['a compression pointer in the question', new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])],
    ['a name over 255 bytes', new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...Array(5).fill([63, ...Array(63).fill(97)]).flat(), 0, 0, 1, 0, 1])],
  ])('%s is dropped', (_, msg) => expect(parseQuery(msg)).toBeUndefined());
});

describe('answers', () => {
  const q = parseQuery(query()) as NonNullable<ReturnType<typeof parseQuery>>;
  test('the ID sent and the same question', () => expect(answers(answer(0x1234), 0x1234, q.question)).toBe(true));
  test('another ID', () => expect(answers(answer(0x4321), 0x1234, q.question)).toBe(false));
  test('another question', () => {
    const other = answer(0x1234);
    other[13] = 'W'.charCodeAt(0);
    expect(answers(other, 0x1234, q.question)).toBe(false);
  });
  test('a query, not a response', () => expect(answers(query(), 0x1234, q.question)).toBe(false));
});

describe('rewriting', () => {
  test('setId changes the ID and nothing else', () => {
    const msg = answer(7);
    expect(setId(msg, 0xbeef)).toBe(msg);
    expect(idOf(msg)).toBe(0xbeef);
    expect(Array.from(msg.subarray(2))).toEqual(Array.from(answer(7).subarray(2)));
  });
  test('SERVFAIL keeps the ID, opcode, RD and the question', () => {
    const q = parseQuery(query(0x0102)) as NonNullable<ReturnType<typeof parseQuery>>;
    expect(Array.from(servfail(query(0x0102), q))).toEqual([1, 2, 0x81, 0x82, 0, 1, 0, 0, 0, 0, 0, 0, ...QUESTION]);
  });
  test('REFUSED, SERVFAIL and NOTIMP send the query on; NXDOMAIN and NOERROR are answers', () => {
    expect([0, 2, 3, 4, 5].map((rcode) => refuses(answer(1, rcode)))).toEqual([false, true, false, true, true]);
    expect(refusal(answer(1, 5))).toBe('answered REFUSED');
  });
});

describe('TCP frames', () => {
  const a = query(1);
  const b = query(2);
  test('whole messages out, the incomplete rest kept', () => {
    const stream = append(append(frame(a), frame(b)), frame(a).subarray(0, 5));
    const r = splitFrames(stream);
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.messages.map((m) => idOf(m))).toEqual([1, 2]);
    expect(r.rest.length).toBe(5);
  });
  test('a message split across chunks comes out once whole', () => {
    const f = frame(a);
    const first = splitFrames(f.subarray(0, 1));
    expect(first).toMatchObject({ kind: 'ok', messages: [] });
    if (first.kind !== 'ok') return;
    expect(splitFrames(append(first.rest, f.subarray(1)))).toMatchObject({ kind: 'ok', messages: [a] });
  });
  test('a length shorter than a header is garbage', () => expect(splitFrames(new Uint8Array([0, 5, 1, 2, 3, 4, 5])).kind).toBe('garbage'));
  test('the largest length waits for its bytes (memory bounded by 64 KiB)', () => {
    expect(splitFrames(new Uint8Array([0xff, 0xff, 1, 2, 3]))).toMatchObject({ kind: 'ok', messages: [] });
  });
});

describe('upstreams', () => {
  const self = { address: '169.254.0.1', port: 53 };
  test('nameserver lines in order, IPv4 only, without duplicates or the resolver itself', () => {
    const text = '# lease\nsearch lan\nnameserver 192.0.2.53\nnameserver 2001:db8::1\n  nameserver   198.51.100.1  \nnameserver 192.0.2.53\nnameserver 169.254.0.1\noptions ndots:1\n';
    expect(parseResolvConf(text, self)).toEqual([{ address: '192.0.2.53', port: 53 }, { address: '198.51.100.1', port: 53 }]);
  });
  test('--upstream ADDR and ADDR:PORT', () => {
    expect(parseEndpoint('192.0.2.1', '--upstream')).toEqual({ address: '192.0.2.1', port: 53 });
    expect(parseEndpoint('192.0.2.1:5353', '--upstream')).toEqual({ address: '192.0.2.1', port: 5353 });
  });
  test.each(['dns.example', '192.0.2.256', '192.0.2.1:0', '192.0.2.1:70000', '::1'])('%j is a usage error', (text) => {
    expect(() => parseEndpoint(text, '--upstream')).toThrow(UsageError);
  });
});

describe('limits', () => {
  test('clients are 100.64.0.0/16 only', () => {
    expect(['100.64.1.2', '100.64.255.255', '100.65.0.1', '203.0.113.2', '169.254.0.1', '100.640.1.1'].map(isClientAddress)).toEqual([
      true, true, false, false, false, false,
    ]);
  });
  test('a token bucket per client: a burst of one second, then the rate', () => {
    const limiter = new RateLimiter(10);
    const burst = Array.from({ length: 15 }, () => limiter.allow('100.64.0.2', 0)).filter(Boolean).length;
    expect(burst).toBe(10);
    expect(limiter.allow('100.64.0.3', 0)).toBe(true); // another client is not affected
    expect(limiter.allow('100.64.0.2', 100)).toBe(true); // 100 ms later: one more token
    expect(limiter.allow('100.64.0.2', 100)).toBe(false);
  });
  test('rate 0 never limits', () => {
    const limiter = new RateLimiter(0);
    expect(Array.from({ length: 100 }, () => limiter.allow('100.64.0.2', 0)).every(Boolean)).toBe(true);
  });
});

describe('--user', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
  test('uid and primary gid from passwd', () => expect(lookupUser(passwd, 'nobody')).toEqual({ uid: 65534, gid: 65534 }));
  test('an unknown user is a usage error naming it', () => expect(() => lookupUser(passwd, 'dnsmasq')).toThrow('--user: no user "dnsmasq" in /etc/passwd'));
});
