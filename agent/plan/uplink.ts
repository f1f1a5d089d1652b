import { sameUplink, type UplinkTable } from '../convention/uplink';
import type { Step } from './steps';

/**
 * Pure: the step (if any) that makes the kernel's guestnet table what it
 * should be. `current` undefined means there is no such table. A table that
 * differs in anything is replaced as a whole, never patched.
 */
export function planUplink(desired: UplinkTable | undefined, current: UplinkTable | undefined): Step[] {
  if (sameUplink(desired, current)) return [];
  return desired ? [{ action: 'uplink-set', table: desired }] : [{ action: 'uplink-del' }];
}
