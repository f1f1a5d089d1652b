import type { Link } from '../convention/types';

const POLL_MS = 20;

/**
 * Polls `list` (discovery) until `ready(links)` holds or `timeoutMs` passes, for NICs
 * whose driver is still probing at boot. Returns the last listing either way.
 */
export async function waitForLinks(
  list: () => Link[],
  ready: (links: Link[]) => boolean,
  timeoutMs: number,
): Promise<Link[]> {
  const deadline = Date.now() + timeoutMs;
  let links = list();
  while (!ready(links) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    links = list();
  }
  return links;
}
