import { drift } from '../nft/compare';
import type { FoundTables } from '../nft/decode';
import type { Ruleset } from '../nft/ruleset';
import type { Step } from './steps';

/**
 * Pure: the step (if any) that makes the kernel's guestnet tables what they
 * should be. A table that differs in anything is replaced as a whole, never
 * patched; the `table ip guestnet` of earlier releases goes with it.
 */
export function planUplink(desired: Ruleset | undefined, found: FoundTables): Step[] {
  if (drift(desired, found) === undefined) return [];
  return desired ? [{ action: 'uplink-set', table: desired }] : [{ action: 'uplink-del' }];
}
