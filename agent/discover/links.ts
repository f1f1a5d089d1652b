import type { Backend } from '../apply/backend';
import type { Link } from '../convention/types';
import { listLinks } from './sysfs';

/**
 * Every link in this network namespace, in ifindex order: from the
 * backend's own RTM_GETLINK dump where it has one (netlink), else from
 * sysfs (the `ip` backend, and node, which has no netlink socket).
 */
export function discoverLinks(backend: Pick<Backend, 'listLinks'>, sysfs: string): Link[] {
  return backend.listLinks ? backend.listLinks() : listLinks(sysfs);
}
