// What a fake kernel answers after guestnet set a ruleset: the table as
// NftNetlink.read() would decode the real kernel's dump of it.
import { encodeAttrs } from '../../agent/netlink/message';
import type { FoundTables } from '../../agent/nft/decode';
import { SET_DYNAMIC, TYPE_IPV4_ADDR } from '../../agent/nft/encode';
import { fieldAttrs } from '../../agent/nft/expr';
import { HOOKS, type Ruleset } from '../../agent/nft/ruleset';
import { ruleExprs, VERDICT } from '../../agent/nft/terms';

export function held(r: Ruleset | undefined): FoundTables {
  if (!r) return { table: undefined, legacy: false };
  const sets = r.sets.map((s) => ({ name: s.name, flags: SET_DYNAMIC, keyType: TYPE_IPV4_ADDR, keyLen: 4, size: s.size }));
  const chains = r.chains.map((c) => ({
    name: c.name,
    ...(c.base ? { base: { type: c.base.type, hook: HOOKS[c.base.hook], priority: c.base.priority, policy: VERDICT[c.base.policy] } } : {}),
    rules: c.rules.map((rule) =>
      ruleExprs(rule).map((e) => ({ name: e.name, data: Buffer.from(encodeAttrs(fieldAttrs(e.fields, true))).toString('hex') })),
    ),
  }));
  return { table: { sets, chains }, legacy: false };
}
