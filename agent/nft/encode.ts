// The boundary's table as one nf_tables batch: what `nft -f` does for the
// script of script.ts, with each rule's expressions in the form the kernel
// dumps them (test/unit/nft-netlink.test.ts checks both against captures).
// Replacing is add+delete of the old `table ip guestnet` (previous
// releases), add+delete of `table inet guestnet`, then the new table, its
// chains, set and rules (nft's order): one transaction, valid whether or not either
// table existed (NFT_MSG_DESTROYTABLE would need Linux 6.3; guests run 6.1).
import { NLM_F_CREATE, NLM_F_REQUEST, stringAttr, type Attr } from '../netlink/message';
import { exprAttr } from './expr';
import {
  batchMark, be32, nested, nftMessage, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFPROTO_INET, NFPROTO_IPV4,
  NFT_MSG_DELTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWSET, NFT_MSG_NEWTABLE,
} from './nfnl';
import { HOOKS, TABLE, type Chain, type NftSet, type Ruleset } from './ruleset';
import { ruleExprs, VERDICT, type Term } from './terms';

const NLM_F_APPEND = 0x800;
/** NFT_SET_EVAL: `flags dynamic`. */
export const SET_DYNAMIC = 0x20;
/** The datatype nft calls ipv4_addr. */
export const TYPE_IPV4_ADDR = 7;

const table = stringAttr(1, TABLE); // NFTA_{TABLE_NAME,CHAIN_TABLE,RULE_TABLE,SET_TABLE}

function chainMessage(c: Chain, seq: number): Uint8Array {
  const attrs: Attr[] = [table, stringAttr(3, c.name)];
  if (c.base) {
    const hook = nested(4, [be32(1, HOOKS[c.base.hook]), be32(2, c.base.priority)]);
    attrs.push(stringAttr(7, c.base.type), be32(5, VERDICT[c.base.policy]), hook);
  }
  return nftMessage(NFT_MSG_NEWCHAIN, NLM_F_REQUEST | NLM_F_CREATE, seq, attrs);
}

/** NFTA_SET_ID, which the kernel requires of a new set; rules name the set, so any number does. */
const SET_ID = 1;

function setMessage(s: NftSet, seq: number): Uint8Array {
  const attrs = [table, stringAttr(2, s.name), be32(3, SET_DYNAMIC), be32(4, TYPE_IPV4_ADDR), be32(5, 4), be32(10, SET_ID), nested(9, [be32(1, s.size)])];
  return nftMessage(NFT_MSG_NEWSET, NLM_F_REQUEST | NLM_F_CREATE, seq, attrs);
}

function ruleMessage(chain: string, rule: readonly Term[], seq: number): Uint8Array {
  const attrs = [table, stringAttr(2, chain), nested(4, ruleExprs(rule).map(exprAttr))];
  return nftMessage(NFT_MSG_NEWRULE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND, seq, attrs);
}

const newTable = (family: number) => (seq: number): Uint8Array => nftMessage(NFT_MSG_NEWTABLE, NLM_F_REQUEST, seq, [table, be32(2, 0)], family);
const delTable = (family: number) => (seq: number): Uint8Array => nftMessage(NFT_MSG_DELTABLE, NLM_F_REQUEST, seq, [table], family);
/** Both guestnet tables gone, whether or not they were there. */
const REMOVE = [newTable(NFPROTO_IPV4), delTable(NFPROTO_IPV4), newTable(NFPROTO_INET), delTable(NFPROTO_INET)];

/** Wraps messages (numbered from seq + 1) in BATCH_BEGIN (seq) and BATCH_END. */
function batch(seq: number, body: readonly ((seq: number) => Uint8Array)[]): Uint8Array[] {
  const messages = body.map((make, i) => make(seq + 1 + i));
  const end = batchMark(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq + 1 + body.length);
  return [batchMark(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq), ...messages, end];
}

/** `nft -f` of setScript(ruleset): the table replaced as a whole. */
export function setBatch(r: Ruleset, seq: number): Uint8Array[] {
  const sets = r.sets.map((s) => (n: number) => setMessage(s, n));
  const chains = r.chains.map((c) => (n: number) => chainMessage(c, n));
  const rules = r.chains.flatMap((c) => c.rules.map((rule) => (n: number) => ruleMessage(c.name, rule, n)));
  return batch(seq, [...REMOVE, newTable(NFPROTO_INET), ...chains, ...sets, ...rules]);
}

/** `nft -f` of delScript(): both tables gone, whether or not they were there. */
export function delBatch(seq: number): Uint8Array[] {
  return batch(seq, REMOVE);
}
