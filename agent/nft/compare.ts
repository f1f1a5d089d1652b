// Does the kernel hold the wanted table? Each wanted expression is held
// against the raw one from the dump attribute by attribute, descending
// where the wanted one nests: no expression's layout is known here. (The
// kernel sets NLA_F_NESTED on some nests and not others; attrList drops it.)
import type { FoundTables, KernelChain, KernelTable } from './decode';
import { SET_DYNAMIC, TYPE_IPV4_ADDR } from './encode';
import type { Expr, Field, RawExpr } from './expr';
import { attrList } from './nfnl';
import { HOOKS, type Chain, type Ruleset } from './ruleset';
import { ruleExprs, VERDICT } from './terms';

const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

function sameFields(want: readonly Field[], data: Uint8Array): boolean {
  const got = attrList(data);
  if (got.length !== want.length) return false;
  return want.every((f, i) => {
    if (got[i].type !== f.type) return false;
    return 'nest' in f ? sameFields(f.nest, got[i].data) : Buffer.from(got[i].data).toString('hex') === f.hex;
  });
}

export function sameExpr(want: Expr, got: RawExpr): boolean {
  return want.name === got.name && sameFields(want.fields, fromHex(got.data));
}

function sameChain(want: Chain, got: KernelChain): boolean {
  const b = want.base;
  const g = got.base;
  if (want.name !== got.name || (b === undefined) !== (g === undefined)) return false;
  if (b && g && (b.type !== g.type || HOOKS[b.hook] !== g.hook || b.priority !== g.priority || VERDICT[b.policy] !== g.policy)) return false;
  if (want.rules.length !== got.rules.length) return false;
  return want.rules.every((rule, i) => {
    const exprs = ruleExprs(rule);
    return exprs.length === got.rules[i].length && exprs.every((e, j) => sameExpr(e, got.rules[i][j]));
  });
}

function tableDrift(want: Ruleset, got: KernelTable): string | undefined {
  const setsOk = want.sets.length === got.sets.length && want.sets.every((s, i) => {
    const g = got.sets[i];
    return s.name === g.name && g.flags === SET_DYNAMIC && g.keyType === TYPE_IPV4_ADDR && g.keyLen === 4 && g.size === s.size;
  });
  if (!setsOk) return `its sets differ (want ${want.sets.map((s) => s.name).join(', ') || 'none'})`;
  const names = (cs: readonly { name: string }[]) => cs.map((c) => c.name).join(', ');
  if (names(want.chains) !== names(got.chains)) return `its chains differ (want ${names(want.chains)}; found ${names(got.chains) || 'none'})`;
  const changed = want.chains.filter((c, i) => !sameChain(c, got.chains[i]));
  return changed.length > 0 ? `chain ${names(changed)} differs` : undefined;
}

/**
 * Why the kernel's tables are not what is wanted (undefined: they are).
 * `want` undefined: no table at all (no provider link, or flush).
 */
export function drift(want: Ruleset | undefined, found: FoundTables): string | undefined {
  if (found.legacy) return 'the table ip guestnet of an earlier release is still there';
  if (!want) return found.table ? 'table inet guestnet is there but not wanted' : undefined;
  return found.table ? tableDrift(want, found.table) : 'table inet guestnet is missing';
}
