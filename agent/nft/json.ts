import type { UplinkChain, UplinkExpr, UplinkTable } from '../convention/uplink';

// `nft -j list table ip guestnet` -> UplinkTable. Anything this does not
// recognise becomes an `other` expression, which never matches the desired
// table, so the table gets replaced rather than trusted.

interface JsonChain { name: string; type?: string; hook?: string; prio?: number; policy?: string }
interface JsonRule { chain: string; expr: Record<string, unknown>[] }
type JsonItem = { chain?: JsonChain; rule?: JsonRule };

function matchExpr(m: Record<string, unknown>): UplinkExpr {
  const left = (m.left as { payload?: { protocol?: string; field?: string } } | undefined)?.payload;
  const right = m.right as { prefix?: { addr: string; len: number } } | string | undefined;
  const field = left?.protocol === 'ip' ? left.field : undefined;
  const prefix = typeof right === 'string' ? { addr: right, len: 32 } : right?.prefix;
  if ((field !== 'saddr' && field !== 'daddr') || !prefix || (m.op !== '==' && m.op !== '!=')) {
    return { other: JSON.stringify(m) };
  }
  return { match: field, negate: m.op === '!=', address: prefix.addr, prefix: prefix.len };
}

function expr(e: Record<string, unknown>): UplinkExpr {
  if ('match' in e) return matchExpr(e.match as Record<string, unknown>);
  if ('masquerade' in e && e.masquerade === null) return { verdict: 'masquerade' };
  if ('drop' in e && e.drop === null) return { verdict: 'drop' };
  return { other: JSON.stringify(e) };
}

function chain(c: JsonChain, rules: readonly JsonRule[]): UplinkChain {
  return {
    name: c.name,
    type: c.type as UplinkChain['type'],
    hook: c.hook as UplinkChain['hook'],
    priority: c.prio ?? NaN,
    policy: c.policy as UplinkChain['policy'],
    rules: rules.filter((r) => r.chain === c.name).map((r) => r.expr.map(expr)),
  };
}

/** Parses nft's JSON listing of one table. */
export function parseNftJson(text: string): UplinkTable {
  const items = (JSON.parse(text) as { nftables: JsonItem[] }).nftables;
  const rules = items.flatMap((i) => (i.rule ? [i.rule] : []));
  return { chains: items.flatMap((i) => (i.chain ? [chain(i.chain, rules)] : [])) };
}
