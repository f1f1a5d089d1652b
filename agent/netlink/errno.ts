// Linux errno values the backend reacts to, and the human causes it reports.
// The texts are glibc's strerror strings, lower-cased, except where a hint
// about the usual fix says more.

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EAGAIN = 11;
export const EACCES = 13;
export const EEXIST = 17;
export const ENODEV = 19;
export const EADDRNOTAVAIL = 99;

const PERMISSION = 'permission denied (run as root or with CAP_NET_ADMIN)';

const TEXT: ReadonlyMap<number, string> = new Map([
  [EPERM, PERMISSION],
  [ENOENT, 'no such file or directory'],
  [ESRCH, 'no such process'],
  [EINTR, 'interrupted system call'],
  [EAGAIN, 'resource temporarily unavailable'],
  [12, 'cannot allocate memory'],
  [EACCES, PERMISSION],
  [16, 'device or resource busy'],
  [EEXIST, 'file exists'],
  [ENODEV, 'no such interface (it vanished)'],
  [22, 'invalid argument'],
  [30, 'read-only file system'],
  [34, 'numerical result out of range'],
  [93, 'protocol not supported'],
  [95, 'operation not supported'],
  [97, 'address family not supported by protocol'],
  [EADDRNOTAVAIL, 'cannot assign requested address'],
  [100, 'network is down'],
  [101, 'network is unreachable'],
  [105, 'no buffer space available'],
  [110, 'connection timed out'],
  [113, 'no route to host'],
]);

/** The cause for a (positive) errno, with the kernel's extended-ack text if any. */
export function errnoText(errno: number, detail?: string): string {
  const base = TEXT.get(errno) ?? `error ${errno}`;
  return detail ? `${base}: ${detail}` : base;
}
