import { EnvironmentError } from '../errors';
import { createNetlinkBackend } from '../netlink/backend';
import type { Backend } from './backend';

export type BackendName = 'ip' | 'netlink' | 'auto';
export const BACKEND_NAMES: readonly BackendName[] = ['ip', 'netlink', 'auto'];

/**
 * `auto` prefers netlink (no process per run) and falls back to `ip` where
 * netlink cannot be had: under node, or without a usable socket. The `ip`
 * backend is loaded only then, sparing node:child_process at start-up.
 */
export async function createBackend(name: BackendName, ipBinary: string): Promise<Backend> {
  if (name !== 'ip') {
    try {
      return await createNetlinkBackend();
    } catch (err) {
      if (name === 'netlink' || !(err instanceof EnvironmentError)) throw err;
    }
  }
  const { detectFlavor, IpBackend } = await import('./ip-backend');
  return new IpBackend(ipBinary, detectFlavor(ipBinary));
}
