// nf_tables expressions as generic values: a name and its attributes, each
// either bytes (hex) or a nested list, in the order and form the kernel
// dumps them. The builders below give the attributes their meaning; the
// encoder and the comparison with a dump know nothing of any expression.
// A field the kernel reports but nft does not send is marked `dumpOnly`
// (the kernel may even refuse it: dynset's zero timeout, on a set without
// timeouts).
import { stringAttr, type Attr } from '../netlink/message';
import { nested } from './nfnl';

export type Field =
  | { readonly type: number; readonly hex: string; readonly dumpOnly?: true }
  | { readonly type: number; readonly nest: readonly Field[] };

export interface Expr {
  readonly name: string;
  readonly fields: readonly Field[];
}

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export function u32(type: number, value: number): Field {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value >>> 0, false);
  return { type, hex: hexOf(data) };
}

export function u64(type: number, value: number): Field {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setBigUint64(0, BigInt(value), false);
  return { type, hex: hexOf(data) };
}

export const bytes = (type: number, data: Uint8Array): Field => ({ type, hex: hexOf(data) });
export const str = (type: number, s: string): Field => ({ type, hex: hexOf(stringAttr(type, s).data) });
export const nest = (type: number, fields: readonly Field[]): Field => ({ type, nest: fields });

/** One NFTA_LIST_ELEM of NFTA_RULE_EXPRESSIONS: { NFTA_EXPR_NAME, NFTA_EXPR_DATA }. */
export function exprAttr(e: Expr): Attr {
  return nested(1, [stringAttr(1, e.name), nested(2, fieldAttrs(e.fields, false))]);
}

/** The attributes as sent, or (`dumped`) as the kernel reports them. */
export function fieldAttrs(fields: readonly Field[], dumped: boolean): Attr[] {
  return fields.flatMap((f): Attr[] => {
    if ('nest' in f) return [nested(f.type, fieldAttrs(f.nest, dumped))];
    return f.dumpOnly && !dumped ? [] : [{ type: f.type, data: Uint8Array.from(Buffer.from(f.hex, 'hex')) }];
  });
}

/** An expression as a dump holds it: its name and its NFTA_EXPR_DATA, undecoded. */
export interface RawExpr {
  readonly name: string;
  readonly data: string;
}
