import { EnvironmentError } from '../errors';
import { createNetlinkBackend, netfilterDriver } from '../netlink/backend';
import { PROC_SYS } from '../state/procfs';
import type { Backend } from './backend';
import type { BackendName } from './backend-names';
import type { IpFlavor } from './ip-commands';
import type { UplinkDriver } from './uplink-driver';


/**
 * `auto` prefers netlink (no process per run) and falls back to `ip` where
 * netlink cannot be had: under node, or without a usable socket. The `ip`
 * backend is loaded only then, sparing node:child_process at start-up.
 * `sysfs`: /sys/class/net, where busybox's `ip` backend sets link groups.
 */
export async function createBackend(name: BackendName, ipBinary: string, sysfs: string): Promise<Backend> {
  if (name !== 'ip') {
    try {
      return await createNetlinkBackend();
    } catch (err) {
      if (name === 'netlink' || !(err instanceof EnvironmentError)) throw err;
    }
  }
  const { detectFlavor, IpBackend } = await import('./ip-backend');
  const flavor = detectFlavor(ipBinary);
  return new IpBackend(ipBinary, flavor, await uplinkDriver(flavor), { sysfs, procSys: PROC_SYS }, await byIndex());
}

/**
 * The kernel by ifindex beside `ip`, where the runtime can (bun): busybox
 * prints no route protocols (ownership marks), so its routes are read with
 * one rtnetlink dump, as its uplink table already goes over netlink; and
 * what a rename sent to another link is found and undone by ifindex.
 * Undefined where netlink cannot be had.
 */
async function byIndex(): Promise<Backend | undefined> {
  try {
    return await createNetlinkBackend();
  } catch (err) {
    if (err instanceof EnvironmentError) return undefined;
    throw err;
  }
}

/**
 * iproute2 systems have Debian's `nft`; busybox-only images do not, so with
 * busybox `ip` the table goes over netlink. Either way it is read over
 * netlink (NftCli's reader).
 */
async function uplinkDriver(flavor: IpFlavor): Promise<UplinkDriver> {
  if (flavor === 'busybox') return netfilterDriver();
  const { NftCli } = await import('../nft/cli');
  return new NftCli(netfilterDriver());
}
