// The uplink table's nf_tables encoding against what `nft -f` sends for the
// same script (test/data/nft: the scripts and the captured bytes; capture.sh
// says how they were made), and its decoding back into the plan's shape.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { desiredUplink, sameUplink, type UplinkOptions, type UplinkTable } from '../../agent/convention/uplink';
import { decodeChain, decodeRule, isOurTable } from '../../agent/nft/decode';
import { delBatch, setBatch } from '../../agent/nft/encode';
import { NftNetlink } from '../../agent/nft/netlink';
import { delScript, setScript } from '../../agent/nft/script';
import { concatBytes, decodeMessages, encodeMessage, NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI, stringAttr } from '../../agent/netlink/message';
import type { NetlinkSocket } from '../../agent/netlink/socket';
import { nftMessage, nftType, NFT_MSG_NEWTABLE } from '../../agent/nft/nfnl';

const DATA = join(__dirname, '../data/nft');
const fixture = (name: string): string => readFileSync(join(DATA, name), 'utf8');

const VARIANTS: [string, UplinkOptions][] = [
  ['masquerade-isolate', { masquerade: true, isolate: true }],
  ['masquerade', { masquerade: true, isolate: false }],
  ['isolate', { masquerade: false, isolate: true }],
];

const table = (opts: UplinkOptions): UplinkTable => desiredUplink(true, opts) as UplinkTable;

/** Hex of a batch with every sequence number made relative to the first message's. */
function normalized(buf: Uint8Array): string {
  const copy = buf.slice();
  const dv = new DataView(copy.buffer);
  const first = dv.getUint32(8, true);
  for (let off = 0; off < copy.length; off += dv.getUint32(off, true)) dv.setUint32(off + 8, dv.getUint32(off + 8, true) - first, true);
  return Buffer.from(copy).toString('hex');
}

describe.each(VARIANTS)('%s', (name, opts) => {
  test('the nft script is the fixture the bytes were captured from', () => {
    expect(setScript(table(opts))).toBe(fixture(`${name}.nft`));
  });

  test('the batch is byte for byte what nft sends', () => {
    expect(normalized(concatBytes(setBatch(table(opts), 4242)))).toBe(fixture(`${name}.hex`).trim());
  });

  test('chains and rules decode back to the same table', () => {
    const messages = setBatch(table(opts), 1).flatMap((m) => decodeMessages(m));
    const chains = messages.flatMap((m) => decodeChain(m) ?? []);
    const rules = messages.flatMap((m) => decodeRule(m) ?? []);
    const decoded = { chains: chains.map((c) => ({ ...c, rules: rules.filter((r) => r.chain === c.name).map((r) => r.exprs) })) };
    expect(sameUplink(decoded, table(opts))).toBe(true);
    expect(sameUplink(decoded, table({ masquerade: !opts.masquerade, isolate: opts.isolate }))).toBe(false);
  });
});

test('removal is the add+delete pair nft sends for delScript', () => {
  expect(delScript()).toBe(fixture('delete.nft'));
  expect(normalized(concatBytes(delBatch(7)))).toBe(fixture('delete.hex').trim());
});

test('a rule with an expression guestnet did not write decodes as other, so it never matches', () => {
  const [rule] = setBatch(table({ masquerade: true, isolate: false }), 1)
    .flatMap((m) => decodeMessages(m))
    .flatMap((m) => decodeRule(m) ?? []);
  expect(rule.exprs.map((e) => Object.keys(e)[0])).toEqual(['match', 'match', 'verdict']);
  const counted = { chains: [{ ...table({ masquerade: true, isolate: false }).chains[0], rules: [[...rule.exprs, { other: 'counter' }]] }] };
  expect(sameUplink(counted, table({ masquerade: true, isolate: false }))).toBe(false);
});

/** Answers dumps from `tables`/`chains`/`rules` lists; queues `batchAnswer` after a batch. */
class FakeNetfilter implements NetlinkSocket {
  readonly sent: Uint8Array[] = [];
  private readonly queue: Uint8Array[] = [];
  constructor(
    private readonly dumps: Map<number, Uint8Array[]>,
    private readonly batchAnswer: Uint8Array[] = [],
  ) {}
  send(buf: Uint8Array): void {
    this.sent.push(buf.slice());
    const [req] = decodeMessages(buf.slice());
    const replies = this.dumps.get(req.type);
    if (replies) this.queue.push(...replies.map((r) => reseq(r, req.seq)), encodeMessage(NLMSG_DONE, NLM_F_MULTI, req.seq, new Uint8Array(4)));
    else this.queue.push(...this.batchAnswer);
  }
  recv(): Uint8Array {
    const next = this.queue.shift();
    if (!next) throw new Error('fake: recv would block');
    return next;
  }
  recvQueued(): Uint8Array | undefined {
    return this.queue.shift();
  }
  close(): void {}
}

/** Gives every message of a datagram the request's sequence number. */
function reseq(datagram: Uint8Array, seq: number): Uint8Array {
  const copy = datagram.slice();
  const dv = new DataView(copy.buffer);
  for (let off = 0; off < copy.length; off += (dv.getUint32(off, true) + 3) & ~3) dv.setUint32(off + 8, seq, true);
  return copy;
}

const foreignTable = nftMessage(NFT_MSG_NEWTABLE, NLM_F_MULTI, 0, [stringAttr(1, 'nat')]);
const ourTable = nftMessage(NFT_MSG_NEWTABLE, NLM_F_MULTI, 0, [stringAttr(1, 'guestnet')]);

describe('NftNetlink', () => {
  test('no guestnet table among the tables: read says none', async () => {
    const fake = new FakeNetfilter(new Map([[nftType(1), [foreignTable]]]));
    expect(isOurTable(decodeMessages(ourTable)[0])).toBe(true);
    await expect(new NftNetlink(async () => fake).read()).resolves.toBeUndefined();
    expect(fake.sent).toHaveLength(1); // no chain or rule dumps for a table that is not there
  });

  test('read decodes the chains and rules of table guestnet only', async () => {
    const want = table({ masquerade: true, isolate: true });
    const raw = (type: number) => setBatch(want, 1).filter((m) => decodeMessages(m)[0].type === nftType(type));
    const foreignChain = nftMessage(3, NLM_F_MULTI, 0, [stringAttr(1, 'nat'), stringAttr(3, 'postrouting')]);
    const fake = new FakeNetfilter(new Map([
      [nftType(1), [foreignTable, ourTable]],
      [nftType(4), [foreignChain, ...raw(3)]],
      [nftType(7), raw(6)],
    ]));
    const read = await new NftNetlink(async () => fake).read();
    expect(sameUplink(read, want)).toBe(true);
  });

  test("the kernel's own dump replies (captured: guestnet's table and a foreign nat table) read back as the table", async () => {
    const datagrams = fixture('listing.hex').trim().split('\n').map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
    // One dump's answer per kind (nft dumps the rules twice); each holds the nat table's too.
    const byType = (msg: number) => datagrams.filter((d) => decodeMessages(d)[0].type === nftType(msg)).slice(0, 1);
    expect(byType(6).flatMap((d) => decodeMessages(d)).length).toBe(3); // guestnet's two rules and nat's
    const fake = new FakeNetfilter(new Map([
      [nftType(1), byType(NFT_MSG_NEWTABLE)],
      [nftType(4), byType(3)],
      [nftType(7), byType(6)],
    ]));
    const read = await new NftNetlink(async () => fake).read();
    expect(sameUplink(read, table({ masquerade: true, isolate: true }))).toBe(true);
  });

  test('set sends one datagram; a queued error is the cause, nothing queued is success', async () => {
    const ok = new FakeNetfilter(new Map());
    await expect(new NftNetlink(async () => ok).set(table({ masquerade: true, isolate: true }))).resolves.toBeUndefined();
    expect(ok.sent).toHaveLength(1);
    const err = new Int32Array([-1]);
    const echoed = encodeMessage(nftType(6), 0, 5, new Uint8Array(4));
    const denied = encodeMessage(NLMSG_ERROR, 0x100, 5, concatBytes([new Uint8Array(err.buffer), echoed]));
    const failing = new FakeNetfilter(new Map(), [denied]);
    await expect(new NftNetlink(async () => failing).del()).resolves.toBe('permission denied (run as root or with CAP_NET_ADMIN)');
  });

  test('a kernel without nf_tables is one environment error saying so', async () => {
    const { SyscallError } = await import('../../agent/netlink/socket');
    const driver = new NftNetlink(async () => {
      throw new SyscallError('socket', 93, 'protocol not supported');
    });
    await expect(driver.read()).rejects.toThrow('nftables: the kernel has no nf_tables (load nf_tables, nft_chain_nat and nft_masq)');
    await expect(driver.set(table({ masquerade: true, isolate: true }))).resolves.toMatch(/no nf_tables/);
  });
});
