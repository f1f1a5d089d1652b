import { exprText, UPLINK_TABLE, type UplinkChain, type UplinkTable } from '../convention/uplink';

// The uplink table as an `nft -f` script. Pure, so --dry-run prints exactly
// what the nft backend feeds to `nft -f -`, and the netlink backend is
// tested against what `nft` sends for this very text.

const TABLE = `table ip ${UPLINK_TABLE}`;

// Adding the table first makes the delete valid whether or not it existed;
// all of it is one nft transaction, so nobody sees the table half-built.
const DROP = `${TABLE} {}\ndelete ${TABLE}\n`;

function chainText(c: UplinkChain): string {
  const head = `\t\ttype ${c.type} hook ${c.hook} priority ${c.priority}; policy ${c.policy};\n`;
  const rules = c.rules.map((r) => `\t\t${r.map(exprText).join(' ')}\n`).join('');
  return `\tchain ${c.name} {\n${head}${rules}\t}\n`;
}

/** Replaces the table as a whole, atomically. */
export function setScript(table: UplinkTable): string {
  return `${DROP}${TABLE} {\n${table.chains.map(chainText).join('')}}\n`;
}

/** Removes the table if it is there; nothing else. */
export function delScript(): string {
  return DROP;
}
