import { TABLE, type Chain, type NftSet, type Ruleset } from './ruleset';

// The boundary's table as an `nft -f` script. Pure, so --dry-run prints
// exactly what the nft backend feeds to `nft -f -`, and the netlink backend
// is tested against what the kernel holds after `nft -f` of this very text.

// Adding a table first makes its delete valid whether or not it existed; all
// of it is one nft transaction, so nobody sees the table half-built. The
// `table ip guestnet` of earlier releases goes too.
const REMOVE = [`table ip ${TABLE} {}`, `delete table ip ${TABLE}`, `table inet ${TABLE} {}`, `delete table inet ${TABLE}`, '']
  .join('\n');

const setText = (s: NftSet): string => `\tset ${s.name} {\n\t\ttype ipv4_addr\n\t\tsize ${s.size}\n\t\tflags dynamic\n\t}\n`;

function chainText(c: Chain): string {
  const b = c.base;
  const head = b ? `\t\ttype ${b.type} hook ${b.hook} priority ${b.priority}; policy ${b.policy};\n` : '';
  const rules = c.rules.map((r) => `\t\t${r.map((t) => t.text).join(' ')}\n`).join('');
  return `\tchain ${c.name} {\n${head}${rules}\t}\n`;
}

/** Every rule as `chain: rule`, for status. */
export function rulesText(r: Ruleset): string[] {
  return r.chains.flatMap((c) => c.rules.map((rule) => `${c.name}: ${rule.map((t) => t.text).join(' ')}`));
}

/** Replaces the table as a whole, atomically. */
export function setScript(r: Ruleset): string {
  return `${REMOVE}table inet ${TABLE} {\n${[...r.sets.map(setText), ...r.chains.map(chainText)].join('')}}\n`;
}

/** Removes guestnet's tables if they are there; nothing else. */
export function delScript(): string {
  return REMOVE;
}
