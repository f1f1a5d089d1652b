import { listDir, readText } from '../io/files';
import type { Link } from '../convention/types';

export const SYSFS_NET = '/sys/class/net';
const IFF_UP = 0x1;

// Paths are joined by hand: node:path would be one more module every start-up loads.
function attr(dir: string, name: string): string {
  return readText(`${dir}/${name}`).trim();
}

/** Reads one interface from sysfs, or undefined if it vanished meanwhile. */
export function readLink(root: string, name: string): Link | undefined {
  const dir = `${root}/${name}`;
  try {
    return {
      name,
      ifindex: Number(attr(dir, 'ifindex')),
      mac: attr(dir, 'address'),
      type: Number(attr(dir, 'type')),
      up: (Number(attr(dir, 'flags')) & IFF_UP) !== 0,
      group: Number(attr(dir, 'netdev_group')),
    };
  } catch (err) {
    // A link being unregistered still lists, but its attributes read EINVAL
    // or ENODEV.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EINVAL' || code === 'ENODEV') return undefined;
    throw err;
  }
}

/** Every interface in this network namespace, in ifindex order. */
export function listLinks(root: string = SYSFS_NET): Link[] {
  const links = listDir(root)
    .map((name) => readLink(root, name))
    .filter((link): link is Link => link !== undefined);
  return links.sort((a, b) => a.ifindex - b.ifindex);
}
