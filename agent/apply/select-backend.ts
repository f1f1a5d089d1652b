import { EnvironmentError } from '../errors';
import type { Backend } from './backend';
import { detectFlavor, IpBackend } from './ip-backend';

export type BackendName = 'ip' | 'netlink' | 'auto';
export const BACKEND_NAMES: readonly BackendName[] = ['ip', 'netlink', 'auto'];

export async function createBackend(name: BackendName, ipBinary: string): Promise<Backend> {
  if (name === 'netlink') throw new EnvironmentError('the netlink backend is not available in this build');
  return new IpBackend(ipBinary, detectFlavor(ipBinary));
}
