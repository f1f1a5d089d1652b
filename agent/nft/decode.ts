// Dump requests for the uplink table and decoders for their replies, back
// into the UplinkTable shape so the planner can compare. Expressions this
// does not recognise decode as `other`, which never matches what guestnet
// wants, so a table someone edited is replaced rather than trusted; chain
// hooks, types and policies guestnet does not use are kept as text (cast
// to the model's types), for the same effect.
import { UPLINK_TABLE, type UplinkChain, type UplinkExpr } from '../convention/uplink';
import { decodeIpv4 } from '../netlink/ipv4';
import { decodeString, encodeMessage, NLM_F_DUMP, NLM_F_REQUEST, stringAttr, type Attr, type NlMessage } from '../netlink/message';
import { HOOKS, IP_FIELD_OFFSET, NF_ACCEPT, NF_DROP, NFT_CMP_EQ, NFT_CMP_NEQ } from './encode';
import {
  attrList, attrMap, nfgenmsg, nftType, readBe32, NFGENMSG_LEN, NFNL_SUBSYS_NFTABLES, NFPROTO_IPV4, NFT_MSG_GETCHAIN,
  NFT_MSG_GETRULE, NFT_MSG_GETTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWGEN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE,
} from './nfnl';

const dump = (msg: number, attrs: readonly Attr[] = []) => (seq: number): Uint8Array =>
  encodeMessage(nftType(msg), NLM_F_REQUEST | NLM_F_DUMP, seq, nfgenmsg(NFPROTO_IPV4), attrs);

/** `nft list tables ip`, `nft list chains ip`: every ip-family table and chain. */
export const dumpTables = dump(NFT_MSG_GETTABLE);
export const dumpChains = dump(NFT_MSG_GETCHAIN);
/** The rules of table guestnet only (the kernel filters rule dumps by NFTA_RULE_TABLE), however many others hold. */
export const dumpRules = dump(NFT_MSG_GETRULE, [stringAttr(1, UPLINK_TABLE)]);

/** The message's attributes, when it is `type` and belongs to table guestnet. */
function ours(msg: NlMessage, type: number): Map<number, Uint8Array> | undefined {
  if (msg.type !== nftType(type)) return undefined;
  const attrs = attrMap(msg.payload.subarray(NFGENMSG_LEN));
  const table = attrs.get(1);
  return table && decodeString(table) === UPLINK_TABLE ? attrs : undefined;
}

export function isOurTable(msg: NlMessage): boolean {
  return ours(msg, NFT_MSG_NEWTABLE) !== undefined;
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
  return table !== undefined && decodeString(table) === UPLINK_TABLE;
}

const name = (data: Uint8Array | undefined): string => (data ? decodeString(data) : '');
const byValue = <K extends string>(map: Record<K, number>, value: number | undefined): K | undefined =>
  (Object.keys(map) as K[]).find((k) => map[k] === value);

/** A chain of table guestnet, with no rules yet. */
export function decodeChain(msg: NlMessage): UplinkChain | undefined {
  const attrs = ours(msg, NFT_MSG_NEWCHAIN);
  if (!attrs) return undefined;
  const hook = attrMap(attrs.get(4) ?? new Uint8Array(0));
  const policy = readBe32(attrs.get(5));
  const hookNum = readBe32(hook.get(1));
  return {
    name: name(attrs.get(3)),
    type: name(attrs.get(7)) as UplinkChain['type'],
    hook: byValue(HOOKS, hookNum) ?? (`hook ${hookNum}` as UplinkChain['hook']),
    priority: readBe32(hook.get(2)) ?? NaN,
    policy: policy === NF_ACCEPT ? 'accept' : policy === NF_DROP ? 'drop' : (`policy ${policy}` as UplinkChain['policy']),
    rules: [],
  };
}

/** A rule of table guestnet: its chain and its expressions. */
export function decodeRule(msg: NlMessage): { readonly chain: string; readonly exprs: UplinkExpr[] } | undefined {
  const attrs = ours(msg, NFT_MSG_NEWRULE);
  if (!attrs) return undefined;
  const elements = attrList(attrs.get(4) ?? new Uint8Array(0)).map((e) => {
    const a = attrMap(e.data);
    return { name: name(a.get(1)), data: attrList(a.get(2) ?? new Uint8Array(0)) };
  });
  return { chain: name(attrs.get(2)), exprs: decodeExprs(elements) };
}

type Element = { readonly name: string; readonly data: readonly Attr[] };

const field = (data: readonly Attr[], type: number): Uint8Array | undefined => data.find((a) => a.type === type)?.data;

/** payload+cmp pairs become matches; masq and immediate drop, verdicts. */
function decodeExprs(elements: readonly Element[]): UplinkExpr[] {
  const out: UplinkExpr[] = [];
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i];
    const match = e.name === 'payload' ? decodeMatch(e, elements[i + 1]) : undefined;
    if (match) {
      out.push(match);
      i++;
    } else if (e.name === 'masq' && e.data.length === 0) out.push({ verdict: 'masquerade' });
    else if (isDrop(e)) out.push({ verdict: 'drop' });
    else out.push({ other: e.name });
  }
  return out;
}

function decodeMatch(payload: Element, cmp: Element | undefined): UplinkExpr | undefined {
  if (!cmp || cmp.name !== 'cmp' || payload.data.length !== 4 || cmp.data.length !== 3) return undefined;
  const [dreg, base, offset, len] = [1, 2, 3, 4].map((t) => readBe32(field(payload.data, t)));
  const match = byValue(IP_FIELD_OFFSET, offset);
  const op = readBe32(field(cmp.data, 2));
  const value = attrMap(field(cmp.data, 3) ?? new Uint8Array(0)).get(1);
  const sreg = readBe32(field(cmp.data, 1));
  if (!match || dreg !== 1 || sreg !== 1 || base !== 1 || !value || value.length !== len || len > 4) return undefined;
  if (op !== NFT_CMP_EQ && op !== NFT_CMP_NEQ) return undefined;
  const address = new Uint8Array(4);
  address.set(value);
  return { match, negate: op === NFT_CMP_NEQ, address: decodeIpv4(address), prefix: len * 8 };
}

function isDrop(e: Element): boolean {
  if (e.name !== 'immediate' || readBe32(field(e.data, 1)) !== 0) return false;
  const verdict = attrMap(attrMap(field(e.data, 2) ?? new Uint8Array(0)).get(2) ?? new Uint8Array(0));
  return verdict.size === 1 && readBe32(verdict.get(1)) === NF_DROP;
}
