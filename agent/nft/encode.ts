// The uplink table as one nf_tables batch, the messages `nft -f` sends for
// the script of script.ts (test/unit/nft-netlink.test.ts compares the bytes
// with a capture of nft 1.0.6). Replacing is NEWTABLE, DELTABLE, NEWTABLE,
// chains, rules in one batch: one transaction, valid whether or not the
// table existed (NFT_MSG_DESTROYTABLE would need Linux 6.3; guests run 6.1).
import { encodeIpv4 } from '../netlink/ipv4';
import { NLM_F_CREATE, NLM_F_REQUEST, stringAttr, type Attr } from '../netlink/message';
import { UPLINK_TABLE, type UplinkChain, type UplinkExpr, type UplinkTable } from '../convention/uplink';
import {
  batchMark, be32, nested, nftMessage, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFT_MSG_DELTABLE,
  NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE,
} from './nfnl';

const NLM_F_APPEND = 0x800;
const NFT_REG_VERDICT = 0;
const NFT_REG_1 = 1;
const NFT_PAYLOAD_NETWORK_HEADER = 1;
export const NFT_CMP_EQ = 0;
export const NFT_CMP_NEQ = 1;
export const NF_DROP = 0;
export const NF_ACCEPT = 1;
/** Offsets of the IPv4 source and destination addresses. */
export const IP_FIELD_OFFSET = { saddr: 12, daddr: 16 } as const;
export const HOOKS = { forward: 2, postrouting: 4 } as const;

const table = stringAttr(1, UPLINK_TABLE); // NFTA_{TABLE_NAME,CHAIN_TABLE,RULE_TABLE}

/** One NFTA_LIST_ELEM: NFTA_EXPR_NAME and NFTA_EXPR_DATA. */
const element = (name: string, data: readonly Attr[]): Attr => nested(1, [stringAttr(1, name), nested(2, data)]);

/** `ip saddr|daddr [!=] A/P`: load the prefix's whole bytes, compare (nft's form for byte-aligned prefixes). */
function matchExprs(e: Extract<UplinkExpr, { match: string }>): Attr[] {
  if (e.prefix % 8 !== 0 || e.prefix === 0) throw new Error(`nftables: prefix /${e.prefix} is not byte-aligned`);
  const bytes = e.prefix / 8;
  const payload = [be32(1, NFT_REG_1), be32(2, NFT_PAYLOAD_NETWORK_HEADER), be32(3, IP_FIELD_OFFSET[e.match]), be32(4, bytes)];
  const value = encodeIpv4(e.address).subarray(0, bytes);
  const cmp = [be32(1, NFT_REG_1), be32(2, e.negate ? NFT_CMP_NEQ : NFT_CMP_EQ), nested(3, [{ type: 1, data: value }])];
  return [element('payload', payload), element('cmp', cmp)];
}

function exprAttrs(e: UplinkExpr): Attr[] {
  if ('match' in e) return matchExprs(e);
  if ('other' in e) throw new Error(`nftables: cannot encode ${e.other}`);
  if (e.verdict === 'masquerade') return [element('masq', [])];
  const verdict = nested(2, [nested(2, [be32(1, NF_DROP)])]); // NFTA_DATA_VERDICT { NFTA_VERDICT_CODE }
  return [element('immediate', [be32(1, NFT_REG_VERDICT), verdict])];
}

function chainMessage(c: UplinkChain, seq: number): Uint8Array {
  const hook = nested(4, [be32(1, HOOKS[c.hook]), be32(2, c.priority)]);
  const attrs = [table, stringAttr(3, c.name), stringAttr(7, c.type), be32(5, c.policy === 'accept' ? NF_ACCEPT : NF_DROP), hook];
  return nftMessage(NFT_MSG_NEWCHAIN, NLM_F_REQUEST | NLM_F_CREATE, seq, attrs);
}

function ruleMessage(chain: string, rule: readonly UplinkExpr[], seq: number): Uint8Array {
  const attrs = [table, stringAttr(2, chain), nested(4, rule.flatMap(exprAttrs))];
  return nftMessage(NFT_MSG_NEWRULE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND, seq, attrs);
}

const newTable = (seq: number): Uint8Array => nftMessage(NFT_MSG_NEWTABLE, NLM_F_REQUEST, seq, [table, be32(2, 0)]);
const delTable = (seq: number): Uint8Array => nftMessage(NFT_MSG_DELTABLE, NLM_F_REQUEST, seq, [table]);

/** Wraps messages (numbered from seq + 1) in BATCH_BEGIN (seq) and BATCH_END. */
function batch(seq: number, body: readonly ((seq: number) => Uint8Array)[]): Uint8Array[] {
  const messages = body.map((make, i) => make(seq + 1 + i));
  const end = batchMark(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq + 1 + body.length);
  return [batchMark(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq), ...messages, end];
}

/** `nft -f` of setScript(table): the table replaced as a whole. */
export function setBatch(t: UplinkTable, seq: number): Uint8Array[] {
  const chains = t.chains.map((c) => (s: number) => chainMessage(c, s));
  const rules = t.chains.flatMap((c) => c.rules.map((r) => (s: number) => ruleMessage(c.name, r, s)));
  return batch(seq, [newTable, delTable, newTable, ...chains, ...rules]);
}

/** `nft -f` of delScript(): the table gone, whether or not it was there. */
export function delBatch(seq: number): Uint8Array[] {
  return batch(seq, [newTable, delTable]);
}
