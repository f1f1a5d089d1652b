// Dump requests for guestnet's tables and a generic decoder of the answers:
// chains and sets by their few fixed attributes, rules as lists of raw
// expressions (name + undecoded data), which compare.ts holds against the
// wanted expressions without knowing any expression's layout.
import { decodeString, encodeMessage, NLM_F_DUMP, NLM_F_REQUEST, stringAttr, type Attr, type NlMessage } from '../netlink/message';
import type { RawExpr } from './expr';
import {
  AF_UNSPEC, attrList, attrMap, nfgenmsg, nftType, readBe32, NFGENMSG_LEN, NFNL_SUBSYS_NFTABLES, NFPROTO_INET,
  NFPROTO_IPV4, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE, NFT_MSG_GETSET, NFT_MSG_GETTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWGEN,
  NFT_MSG_NEWRULE, NFT_MSG_NEWSET, NFT_MSG_NEWTABLE,
} from './nfnl';
import { TABLE } from './ruleset';

export interface KernelChain {
  readonly name: string;
  readonly base?: { readonly type: string; readonly hook: number; readonly priority: number; readonly policy: number };
  readonly rules: readonly (readonly RawExpr[])[];
}

export interface KernelSet {
  readonly name: string;
  readonly flags: number;
  readonly keyType: number;
  readonly keyLen: number;
  readonly size: number | undefined;
}

export interface KernelTable {
  readonly sets: readonly KernelSet[];
  readonly chains: readonly KernelChain[];
}

/** What the kernel holds of guestnet's: `table inet guestnet`, and whether the old `table ip guestnet` is there. */
export interface FoundTables {
  readonly table: KernelTable | undefined;
  readonly legacy: boolean;
}

const dump = (msg: number, family: number, attrs: readonly Attr[] = []) => (seq: number): Uint8Array =>
  encodeMessage(nftType(msg), NLM_F_REQUEST | NLM_F_DUMP, seq, nfgenmsg(family), attrs);

/** `nft list tables`: every table of every family. */
export const dumpTables = dump(NFT_MSG_GETTABLE, AF_UNSPEC);
// The kernel filters these by table (NFTA_{CHAIN,SET,RULE}_TABLE), however many others there are.
export const dumpChains = dump(NFT_MSG_GETCHAIN, NFPROTO_INET, [stringAttr(1, TABLE)]);
export const dumpSets = dump(NFT_MSG_GETSET, NFPROTO_INET, [stringAttr(1, TABLE)]);
export const dumpRules = dump(NFT_MSG_GETRULE, NFPROTO_INET, [stringAttr(1, TABLE)]);

/** The message's attributes, when it is `type` and belongs to guestnet's table of `family`. */
function ours(msg: NlMessage, type: number, family = NFPROTO_INET): Map<number, Uint8Array> | undefined {
  if (msg.type !== nftType(type) || msg.payload[0] !== family) return undefined;
  const attrs = attrMap(msg.payload.subarray(NFGENMSG_LEN));
  const table = attrs.get(1);
  return table && decodeString(table) === TABLE ? attrs : undefined;
}

/** Which of guestnet's tables a table dump message is, if either. */
export function tableOf(msg: NlMessage): 'inet' | 'legacy' | undefined {
  if (ours(msg, NFT_MSG_NEWTABLE)) return 'inet';
  return ours(msg, NFT_MSG_NEWTABLE, NFPROTO_IPV4) ? 'legacy' : undefined;
}

/**
 * Whether an nf_tables notification is about a table named guestnet, of
 * any family: every object's message (table, chain, rule, set, element,
 * object, flowtable) names its table in attribute 1. NEWGEN, which ends
 * each transaction, names none (its attribute 1 is the generation number).
 */
export function namesOurTable(msg: NlMessage): boolean {
  if (msg.type >> 8 !== NFNL_SUBSYS_NFTABLES || msg.type === nftType(NFT_MSG_NEWGEN)) return false;
  const table = attrMap(msg.payload.subarray(NFGENMSG_LEN)).get(1);
  return table !== undefined && decodeString(table) === TABLE;
}

const name = (data: Uint8Array | undefined): string => (data ? decodeString(data) : '');
const num = (data: Uint8Array | undefined): number => readBe32(data) ?? NaN;

/** A chain of guestnet's table, with no rules yet. */
export function decodeChain(msg: NlMessage): KernelChain | undefined {
  const attrs = ours(msg, NFT_MSG_NEWCHAIN);
  if (!attrs) return undefined;
  const hookAttr = attrs.get(4);
  if (!hookAttr) return { name: name(attrs.get(3)), rules: [] };
  const hook = attrMap(hookAttr);
  const base = { type: name(attrs.get(7)), hook: num(hook.get(1)), priority: num(hook.get(2)), policy: num(attrs.get(5)) };
  return { name: name(attrs.get(3)), base, rules: [] };
}

export function decodeSet(msg: NlMessage): KernelSet | undefined {
  const attrs = ours(msg, NFT_MSG_NEWSET);
  if (!attrs) return undefined;
  const desc = attrs.get(9);
  const size = desc ? readBe32(attrMap(desc).get(1)) : undefined;
  return { name: name(attrs.get(2)), flags: num(attrs.get(3)), keyType: num(attrs.get(4)), keyLen: num(attrs.get(5)), size };
}

/** A rule of guestnet's table: its chain and its expressions, undecoded. */
export function decodeRule(msg: NlMessage): { readonly chain: string; readonly exprs: RawExpr[] } | undefined {
  const attrs = ours(msg, NFT_MSG_NEWRULE);
  if (!attrs) return undefined;
  const exprs = attrList(attrs.get(4) ?? new Uint8Array(0)).map((e) => {
    const a = attrMap(e.data);
    return { name: name(a.get(1)), data: Buffer.from(a.get(2) ?? new Uint8Array(0)).toString('hex') };
  });
  return { chain: name(attrs.get(2)), exprs };
}

/** Chains with their rules, in the kernel's order. */
export function assemble(chains: readonly KernelChain[], rules: readonly { chain: string; exprs: RawExpr[] }[]): KernelChain[] {
  return chains.map((c) => ({ ...c, rules: rules.filter((r) => r.chain === c.name).map((r) => r.exprs) }));
}
