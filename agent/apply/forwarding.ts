import { IP_FORWARD } from '../state/procfs';
import { writeSetting } from './settings-files';

/** `sysctl -w net.ipv4.ip_forward=1`, as a file write (no process). Returns the cause on failure. */
export function enableForwarding(path = IP_FORWARD): string | undefined {
  return writeSetting(path, '1', 'cannot enable forwarding');
}
