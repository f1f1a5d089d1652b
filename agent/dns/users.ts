// The user the resolver drops to, looked up in /etc/passwd (pure parse).

import { UsageError } from '../errors';

export interface Ids {
  readonly uid: number;
  readonly gid: number;
}

/** The uid and primary gid of `name` in a passwd file's text; throws UsageError when it has none. */
export function lookupUser(passwd: string, name: string): Ids {
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '')) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new UsageError(`--user: no user "${name}" in /etc/passwd`);
}
