import type { Backend } from '../apply/backend';
import type { Link } from '../convention/types';
import { MANY_ENTRIES, normalJit } from '../engine';
import { listLinks, readLink } from './sysfs';

/**
 * Every link in this network namespace, in ifindex order: from the
 * backend's own RTM_GETLINK dump where it has one (netlink), else from
 * sysfs (the `ip` backend, and node, which has no netlink socket).
 */
export function discoverLinks(backend: Pick<Backend, 'listLinks'>, sysfs: string): Link[] {
  if (backend.listLinks) return backend.listLinks(); // its dump sets the JIT policy itself
  const links = listLinks(sysfs);
  if (links.length >= MANY_ENTRIES) normalJit();
  return links;
}

/** The named links as they are now (a name left out: gone), from the backend where it reads links itself, else sysfs. */
export function linksNamed(backend: Pick<Backend, 'linksNamed'>, sysfs: string, names: readonly string[]): Map<string, Link> {
  if (backend.linksNamed) return backend.linksNamed(names);
  const links = new Map<string, Link>();
  for (const name of names) {
    const link = readLink(sysfs, name);
    if (link) links.set(name, link);
  }
  return links;
}
