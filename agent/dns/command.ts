// `guestnet dns`: the command line checked and turned into DnsOptions. The
// CLI loads this module only for `dns`, so no other command pays for it.

import { readFileSync } from 'node:fs';
import type { CliResult } from '../entry/handlers';
import type { GlobalArgs } from '../entry/args';
import { UsageError } from '../errors';
import { checkNotifyFd, notifyFd, notifySystemd } from '../io/notify';
import { createLogger } from '../log';
import { DNS_PORT, parseEndpoint } from './upstreams';
import { lookupUser } from './users';

export interface DnsArgs extends GlobalArgs {
  'notify-fd'?: number;
  upstream?: string[];
  listen?: string;
  user: string;
  'rate-limit': number;
  'resolv-conf': string;
  'state-dir': string;
}

export async function runDns(args: DnsArgs): Promise<CliResult> {
  const log = createLogger({ format: args['log-format'], verbosity: args.quiet ? -1 : args.verbose ? 1 : 0 });
  const fd = args['notify-fd'];
  if (fd !== undefined) checkNotifyFd(fd);
  const rate = args['rate-limit'];
  if (!Number.isInteger(rate) || rate < 0) throw new UsageError(`--rate-limit: "${rate}" is not a number of queries a second (0 for none)`);
  const listen = args.listen ? parseEndpoint(args.listen, '--listen') : { ...parseEndpoint(args.gateway, '--gateway'), port: DNS_PORT };
  const upstreams = args.upstream?.map((u) => parseEndpoint(u, '--upstream'));
  // Root drops to --user after binding; anyone else already holds what it was given.
  const user = process.getuid?.() === 0 ? { name: args.user, ids: lookupUser(readFileSync('/etc/passwd', 'utf8'), args.user) } : undefined;
  const ready = async (): Promise<void> => {
    if (fd !== undefined) notifyFd(fd, log);
    await notifySystemd('READY=1', process.env, log);
  };
  const { serveDns } = await import('./daemon');
  await serveDns({ listen, upstreams, resolvConf: args['resolv-conf'], user, stateDir: args['state-dir'], rate, ready }, log);
  return { ok: true };
}
