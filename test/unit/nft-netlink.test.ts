// The boundary's nf_tables encoding and read-back against captures of nft
// 1.0.6 (test/data/nft; capture.sh says how they were made): the script
// is the fixture, the batch is what `nft -f` sends where the two must
// agree, and the kernel's own dump of the table nft set reads back as
// exactly the wanted table (and as different from any other).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BOUNDARY, deriveBoundary, type BoundaryOptions } from '../../agent/convention/boundary';
import { drift } from '../../agent/nft/compare';
import { delBatch, setBatch } from '../../agent/nft/encode';
import { NftNetlink } from '../../agent/nft/netlink';
import { rulesetFor, type Ruleset } from '../../agent/nft/ruleset';
import { delScript, setScript } from '../../agent/nft/script';
import { concatBytes, decodeMessages, encodeMessage, NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI, type NlMessage } from '../../agent/netlink/message';
import type { NetlinkSocket } from '../../agent/netlink/socket';
import { nftType, NFT_MSG_DELTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWSET, NFT_MSG_NEWTABLE } from '../../agent/nft/nfnl';

const DATA = join(__dirname, '../data/nft');
const fixture = (name: string): string => readFileSync(join(DATA, name), 'utf8');
const datagrams = (name: string): Uint8Array[] => fixture(name).trim().split('\n').map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

const OPEN: BoundaryOptions = {
  masquerade: false, isolate: false, flowLimit: 'off', openPorts: [{ proto: 'tcp', port: 8080 }, { proto: 'udp', port: 5353 }],
};
const VARIANTS: [string, BoundaryOptions][] = [
  ['boundary', { ...DEFAULT_BOUNDARY, flowLimit: 1024 }],
  ['open', OPEN],
];
const ruleset = (opts: BoundaryOptions): Ruleset => rulesetFor(deriveBoundary(opts, '169.254.0.1', 0));

/** Each message of a batch, sequence numbers made relative to the first message's. */
function messages(buf: Uint8Array): NlMessage[] {
  const all = decodeMessages(buf);
  return all.map((m) => ({ ...m, seq: m.seq - all[0].seq }));
}
const hexOf = (m: NlMessage): string => `${m.type}/${m.flags}/${m.seq}/${Buffer.from(m.payload).toString('hex')}`;
const ofType = (ms: readonly NlMessage[], ...types: number[]): string[] =>
  ms.filter((m) => types.some((t) => m.type === nftType(t))).map(hexOf);

/**
 * A rule message's expressions, every attribute as type=hex, nests (NLA_F_NESTED,
 * which both nft and guestnet set) opened, each level sorted by type (a
 * stable sort: the list of expressions keeps its order): the same content
 * whatever the order of an expression's attributes.
 */
function canonical(buf: Uint8Array): string {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: [number, string][] = [];
  for (let off = 0; off + 4 <= buf.length; off += (dv.getUint16(off, true) + 3) & ~3) {
    const [len, type] = [dv.getUint16(off, true), dv.getUint16(off + 2, true)];
    const data = buf.subarray(off + 4, off + len);
    out.push([type & 0x3fff, `${type & 0x3fff}=${type & 0x8000 ? `{${canonical(data)}}` : Buffer.from(data).toString('hex')}`]);
  }
  return out.sort((a, b) => a[0] - b[0]).map((a) => a[1]).join(' ');
}
const ruleExprsOf = (ms: readonly NlMessage[]): string[] =>
  ms.filter((m) => m.type === nftType(NFT_MSG_NEWRULE)).map((m) => canonical(m.payload.subarray(4)));

/** Answers dumps from the listing's datagrams of a kind; queues `batchAnswer` after a batch. */
class FakeNetfilter implements NetlinkSocket {
  readonly sent: Uint8Array[] = [];
  private readonly queue: Uint8Array[] = [];
  constructor(
    private readonly listing: readonly Uint8Array[],
    private readonly batchAnswer: Uint8Array[] = [],
  ) {}
  send(buf: Uint8Array): void {
    this.sent.push(buf.slice());
    const [req] = decodeMessages(buf.slice());
    if (req.type >> 8 !== 10 || (req.flags & 0x300) === 0) {
      this.queue.push(...this.batchAnswer);
      return;
    }
    // The reply type of a GET dump is its NEW type, one less; nft dumps rules twice: the first answer will do.
    const reply = this.listing.find((d) => decodeMessages(d)[0].type === req.type - 1);
    this.queue.push(...(reply ? [reseq(reply, req.seq)] : []), encodeMessage(NLMSG_DONE, NLM_F_MULTI, req.seq, new Uint8Array(4)));
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

const readListing = (name: string) => new NftNetlink(async () => new FakeNetfilter(datagrams(name))).read();

describe.each(VARIANTS)('%s', (name, opts) => {
  const ours = () => messages(concatBytes(setBatch(ruleset(opts), 4242)));
  const nfts = () => messages(datagrams(`${name}.hex`)[0]);

  test('the nft script is the fixture the captures were made from', () => {
    expect(setScript(ruleset(opts))).toBe(fixture(`${name}.nft`));
  });

  test('tables and chains go in the very messages nft sends, byte for byte', () => {
    const kinds = [NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWCHAIN];
    expect(ofType(ours(), ...kinds).length).toBeGreaterThan(5);
    expect(ofType(ours(), ...kinds)).toEqual(ofType(nfts(), ...kinds));
    expect(ofType(ours(), NFT_MSG_NEWRULE)).toHaveLength(ofType(nfts(), NFT_MSG_NEWRULE).length);
    expect(ofType(ours(), NFT_MSG_NEWSET)).toHaveLength(ofType(nfts(), NFT_MSG_NEWSET).length);
  });

  test('rules carry the expressions nft sends, byte for byte (in the order the kernel dumps them)', () => {
    // nft names the flows set also by its transaction id; guestnet by name only, and says flags 0 as the kernel does.
    const nftForm = (r: string) => r.replace('2=00000001 3=00000000 4=00000001 7=', '3=00000000 4=00000001 7=').replace(/(6e6e6c696d697400 2=\{1=[0-9a-f]+ 2=00000001\}\})\}/, '$1 9=00000000}');
    expect(ruleExprsOf(ours())).toEqual(ruleExprsOf(nfts()).map(nftForm));
  });

  test("the kernel's dump of the table nft set is exactly the wanted table", async () => {
    const found = await readListing(`${name}.listing.hex`);
    expect(found.legacy).toBe(false);
    expect(drift(ruleset(opts), found)).toBeUndefined();
  });

  test.each([
    ['another flow limit', { flowLimit: 1000 }, /chain forward differs|its sets differ/],
    ['another open port', { openPorts: [{ proto: 'tcp', port: 8081 }] }, 'chain from_client differs'],
    ['masquerade toggled', { masquerade: !opts.masquerade }, 'its chains differ'],
    ['isolation toggled', { isolate: !opts.isolate }, 'chain forward differs'],
  ] as const)('and differs from a table with %s', async (_what, change, why) => {
    const found = await readListing(`${name}.listing.hex`);
    const other = ruleset({ ...opts, ...change });
    expect(drift(other, found)).toMatch(why);
  });
});

test('removal is the add+delete pairs nft sends for delScript, byte for byte', () => {
  expect(delScript()).toBe(fixture('delete.nft'));
  const ours = messages(concatBytes(delBatch(7))).map(hexOf);
  expect(ours).toEqual(messages(datagrams('delete.hex')[0]).map(hexOf));
});

test('the old table ip guestnet is found beside the new one; foreign tables are not ours', async () => {
  const found = await readListing('listing.hex');
  expect(found.legacy).toBe(true);
  expect(drift(ruleset(VARIANTS[0][1]), { ...found, legacy: false })).toBeUndefined();
  expect(drift(ruleset(VARIANTS[0][1]), found)).toBe('the table ip guestnet of an earlier release is still there');
  expect(drift(undefined, found)).toBe('the table ip guestnet of an earlier release is still there');
});

describe('NftNetlink', () => {
  test('no guestnet table: one dump of the tables, nothing more', async () => {
    const fake = new FakeNetfilter([]);
    await expect(new NftNetlink(async () => fake).read()).resolves.toEqual({ table: undefined, legacy: false });
    expect(fake.sent).toHaveLength(1);
    expect(drift(undefined, { table: undefined, legacy: false })).toBeUndefined();
    expect(drift(ruleset(OPEN), { table: undefined, legacy: false })).toBe('table inet guestnet is missing');
  });

  test('set sends one datagram; a queued error is the cause, nothing queued is success', async () => {
    const ok = new FakeNetfilter([]);
    await expect(new NftNetlink(async () => ok).set(ruleset(OPEN))).resolves.toBeUndefined();
    expect(ok.sent).toHaveLength(1);
    const err = new Int32Array([-1]);
    const echoed = encodeMessage(nftType(6), 0, 5, new Uint8Array(4));
    const denied = encodeMessage(NLMSG_ERROR, 0x100, 5, concatBytes([new Uint8Array(err.buffer), echoed]));
    const failing = new FakeNetfilter([], [denied]);
    await expect(new NftNetlink(async () => failing).del()).resolves.toBe('permission denied (run as root or with CAP_NET_ADMIN)');
  });

  test('a kernel without nf_tables is one environment error saying so', async () => {
    const { SyscallError } = await import('../../agent/netlink/socket');
    const driver = new NftNetlink(async () => {
      throw new SyscallError('socket', 93, 'protocol not supported');
    });
    await expect(driver.read()).rejects.toThrow('nftables: the kernel has no nf_tables (load nf_tables, nft_chain_nat and nft_masq)');
    await expect(driver.set(ruleset(OPEN))).resolves.toMatch(/no nf_tables/);
  });
});
