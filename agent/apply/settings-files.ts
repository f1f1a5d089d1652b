import { sysctlPath } from '../convention/link-settings';
import { writeText } from '../io/files';
import type { StepOf } from '../plan/steps';
import { PROC_SYS } from '../state/procfs';
import { causeOf } from './ip-commands';

// Settings the kernel takes as file writes (/proc/sys, sysfs): no process,
// the same for every backend.

/**
 * Writes `value` to a /proc/sys or sysfs file; the cause on failure, `what`
 * failed. A file that is not there is success when `missingOk`.
 */
export function writeSetting(path: string, value: string, what: string, missingOk = false): string | undefined {
  try {
    writeText(path, `${value}\n`);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && missingOk) return undefined;
    return e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS' ? causeOf('Permission denied') : `${what}: ${e.message}`;
  }
}

/**
 * `sysctl -w` of a link-set step's sysctls; the first failure's cause. A
 * file that is not there is success: the link has no IPv6 (any more), or
 * it is gone, which the read-back after the plan notices.
 */
export function writeLinkSysctls(step: StepOf<'link-set'>, root = PROC_SYS): string | undefined {
  for (const { sysctl, value } of step.sysctls) {
    const cause = writeSetting(`${root}/${sysctlPath(step.ifname, sysctl)}`, value, `cannot set ${sysctl}`, true);
    if (cause !== undefined) return cause;
  }
  return undefined;
}

/** `ip link set dev X group N` through sysfs's netdev_group (busybox's `ip` has no `group`). */
export function writeGroupFile(ifname: string, group: number, sysfs: string): string | undefined {
  return writeSetting(`${sysfs}/${ifname}/netdev_group`, String(group), 'cannot set the link group');
}
