import type { Role, SchemeName } from './types';

/** Tells inter-guest MACs from others and client ends from provider ends (SPEC §1, §5). */
export type Scheme = (mac: Uint8Array) => Role | undefined;

const oui: Scheme = (m) => {
  if (m[0] !== 0x0a || m[1] !== 0xb3 || m[2] !== 0xec) return undefined;
  return (m[3] & 0x80) === 0 ? 'client' : 'provider';
};

const laa: Scheme = (m) => {
  if (m[0] !== 0x02) return undefined;
  if (m[1] === 0x00) return 'client';
  if (m[1] === 0x01) return 'provider';
  return undefined;
};

export const SCHEMES: Readonly<Record<SchemeName, Scheme>> = { oui, laa };
export const SCHEME_NAMES = Object.keys(SCHEMES) as SchemeName[];
