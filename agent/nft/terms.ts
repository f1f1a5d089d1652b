// The words of guestnet's rules: each a term, the nft text and the
// expressions `nft` compiles it to (as the kernel dumps them). A term that
// needs a protocol context (`ip daddr` in an inet table needs
// `meta nfproto ipv4`) names it, and a rule states each context once, as nft does.
import { encodeIpv4 } from '../netlink/ipv4';
import { bytes, nest, str, u32, u64, type Expr, type Field } from './expr';

export interface Term {
  readonly text: string;
  readonly exprs: readonly Expr[];
  /** A protocol context the exprs rely on, stated once per rule. */
  readonly context?: { readonly key: string; readonly exprs: readonly Expr[] };
}

const REG_VERDICT = 0;
const REG_1 = 1;
const CMP = { '==': 0, '!=': 1 } as const;
type Op = keyof typeof CMP;
const META = { iif: 4, nfproto: 15, l4proto: 16, iifgroup: 21, oifgroup: 22 } as const;
const NFPROTO_IPV4 = 2;
const NFPROTO_IPV6 = 10;
const BASE = { network: 1, transport: 2 } as const;
export const VERDICT = { drop: 0, accept: 1, jump: -3 } as const;

/** Values the kernel keeps in host byte order (meta ifindex and group, ct state). */
function host32(value: number): Uint8Array {
  return new Uint8Array(new Uint32Array([value]).buffer);
}

const expr = (name: string, fields: readonly Field[]): Expr => ({ name, fields });
const meta = (key: number): Expr => expr('meta', [u32(2, key), u32(1, REG_1)]);
const cmp = (op: Op, value: Uint8Array): Expr => expr('cmp', [u32(1, REG_1), u32(2, CMP[op]), nest(3, [bytes(1, value)])]);
const payload = (base: number, offset: number, len: number): Expr =>
  expr('payload', [u32(1, REG_1), u32(2, base), u32(3, offset), u32(4, len)]);
const opText = (op: Op): string => (op === '==' ? '' : '!= ');

const IPV4: Term['context'] = { key: 'nfproto ipv4', exprs: [meta(META.nfproto), cmp('==', Uint8Array.of(NFPROTO_IPV4))] };
const l4 = (name: 'icmp' | 'tcp' | 'udp'): Term['context'] => {
  const proto = { icmp: 1, tcp: 6, udp: 17 }[name];
  return { key: `l4proto ${name}`, exprs: [meta(META.l4proto), cmp('==', Uint8Array.of(proto))] };
};

/** `iifgroup G`, `oifgroup != G` */
export function ifGroup(dir: 'iif' | 'oif', op: Op, group: number): Term {
  return { text: `${dir}group ${opText(op)}${group}`, exprs: [meta(META[`${dir}group`]), cmp(op, host32(group))] };
}

/** `iif != "lo"` (the loopback device is ifindex 1 in every namespace) */
export const notLoopback: Term = { text: 'iif != "lo"', exprs: [meta(META.iif), cmp('!=', host32(1))] };

/** `meta nfproto ipv6` */
export const isIpv6: Term = { text: 'meta nfproto ipv6', exprs: [meta(META.nfproto), cmp('==', Uint8Array.of(NFPROTO_IPV6))] };

/** `ip saddr|daddr [!=] A[/P]`: the prefix's whole bytes loaded and compared, as nft does for byte-aligned prefixes. */
export function ipAddr(field: 'saddr' | 'daddr', op: Op, net: { readonly address: string; readonly prefix: number }): Term {
  if (net.prefix % 8 !== 0 || net.prefix === 0) throw new Error(`nftables: prefix /${net.prefix} is not byte-aligned`);
  const len = net.prefix / 8;
  const text = `ip ${field} ${opText(op)}${net.address}${net.prefix === 32 ? '' : `/${net.prefix}`}`;
  const exprs = [payload(BASE.network, field === 'saddr' ? 12 : 16, len), cmp(op, encodeIpv4(net.address).subarray(0, len))];
  return { text, exprs, context: IPV4 };
}

const CT_STATE = { invalid: 1, established: 2, related: 4, new: 8 } as const;
type CtState = keyof typeof CT_STATE;

/** `ct state S[,S]`: any of the states' bits set. */
export function ctState(...states: readonly CtState[]): Term {
  const mask = states.reduce((m, s) => m | CT_STATE[s], 0);
  const load = expr('ct', [u32(1, REG_1), u32(2, 0)]); // NFT_CT_STATE
  const op = { ...u32(6, 0), dumpOnly: true } as const; // NFT_BITWISE_BOOL, the kernel's default
  const bitwise = expr('bitwise', [u32(1, REG_1), u32(2, REG_1), u32(3, 4), op, nest(4, [bytes(1, host32(mask))]), nest(5, [bytes(1, host32(0))])]);
  return { text: `ct state ${states.join(',')}`, exprs: [load, bitwise, cmp('!=', host32(0))] };
}

/** `icmp type echo-request` */
export const icmpEcho: Term = { text: 'icmp type echo-request', exprs: [payload(BASE.transport, 0, 1), cmp('==', Uint8Array.of(8))], context: l4('icmp') };

/** `tcp|udp dport N` */
export function dport(proto: 'tcp' | 'udp', port: number): Term {
  return { text: `${proto} dport ${port}`, exprs: [payload(BASE.transport, 2, 2), cmp('==', Uint8Array.of(port >> 8, port & 0xff))], context: l4(proto) };
}

const FIB_SADDR = 1;
const FIB_IIF = 8;
const FIB_PRESENT = 32;
/** `fib saddr . iif oif missing`: no route back to the source through the interface it came in on. */
export const fibSourceMissing: Term = {
  text: 'fib saddr . iif oif missing',
  exprs: [expr('fib', [u32(1, REG_1), u32(2, 1), u32(3, FIB_SADDR | FIB_IIF | FIB_PRESENT)]), cmp('==', host32(0))],
};

/** `add @SET { ip saddr ct count over N }`: counts each client's flows in a dynamic set; matches beyond N. */
export function flowsOver(set: string, limit: number): Term {
  const connlimit = nest(7, [str(1, 'connlimit'), nest(2, [u32(1, limit), u32(2, 1)])]); // NFT_CONNLIMIT_F_INV: "over"
  const timeout = { ...u64(6, 0), dumpOnly: true } as const; // refused for a set without timeouts
  const dynset = expr('dynset', [u32(4, REG_1), u32(3, 0), str(1, set), timeout, connlimit, u32(9, 0)]);
  return { text: `add @${set} { ip saddr ct count over ${limit} }`, exprs: [payload(BASE.network, 12, 4), dynset], context: IPV4 };
}

function verdict(code: number, chain?: string): Expr {
  const fields = [u32(1, code), ...(chain === undefined ? [] : [str(2, chain)])];
  return expr('immediate', [u32(1, REG_VERDICT), nest(2, [nest(2, fields)])]);
}

export const accept: Term = { text: 'accept', exprs: [verdict(VERDICT.accept)] };
export const drop: Term = { text: 'drop', exprs: [verdict(VERDICT.drop)] };
export const jump = (chain: string): Term => ({ text: `jump ${chain}`, exprs: [verdict(VERDICT.jump, chain)] });
export const masquerade: Term = { text: 'masquerade', exprs: [expr('masq', [])] };

/** A rule's expressions: each context once, before the first term that needs it. */
export function ruleExprs(terms: readonly Term[]): Expr[] {
  const stated = new Set<string>();
  return terms.flatMap((t) => {
    if (!t.context || stated.has(t.context.key)) return t.exprs;
    stated.add(t.context.key);
    return [...t.context.exprs, ...t.exprs];
  });
}
