import { writeText } from '../io/files';
import { IP_FORWARD } from '../state/procfs';
import { causeOf } from './ip-commands';

/** `sysctl -w net.ipv4.ip_forward=1`, as a file write (no process). Returns the cause on failure. */
export function enableForwarding(path = IP_FORWARD): string | undefined {
  try {
    writeText(path, '1\n');
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS'
      ? causeOf('Permission denied')
      : `cannot enable forwarding: ${e.message}`;
  }
}
