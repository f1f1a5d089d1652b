import type { Link } from '../convention/types';
import { listLinks } from './sysfs';

const POLL_MS = 20;

/**
 * Polls sysfs until `ready(links)` holds or `timeoutMs` passes, for NICs
 * whose driver is still probing at boot. Returns the last listing either way.
 */
export async function waitForLinks(
  sysfs: string,
  ready: (links: Link[]) => boolean,
  timeoutMs: number,
): Promise<Link[]> {
  const deadline = Date.now() + timeoutMs;
  let links = listLinks(sysfs);
  while (!ready(links) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    links = listLinks(sysfs);
  }
  return links;
}
