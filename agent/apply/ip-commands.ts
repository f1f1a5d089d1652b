import type { Route } from '../convention/types';
import type { Step } from '../plan/steps';
import { shellCommand } from './shell-quote';

// Step -> `ip` arguments. Pure, so --dry-run prints exactly what would run.

export type IpFlavor = 'iproute2' | 'busybox';

function routeArgs(route: Route, ifname: string): string[] {
  const via = route.via === undefined ? [] : ['via', route.via];
  return [route.dst, ...via, 'dev', ifname, 'metric', String(route.metric)];
}

/** The `ip` arguments for a step, or undefined for steps that are not `ip` commands. */
export function ipArgs(step: Step, flavor: IpFlavor): string[] | undefined {
  switch (step.action) {
    case 'link-up':
      return ['link', 'set', 'dev', step.ifname, 'up'];
    case 'addr-add':
      // busybox has no `addr replace`; its "File exists" counts as success.
      return ['addr', flavor === 'iproute2' ? 'replace' : 'add', `${step.addr.address}/${step.addr.prefix}`, 'dev', step.ifname];
    case 'addr-del':
      return ['addr', 'del', `${step.addr.address}/${step.addr.prefix}`, 'dev', step.ifname];
    case 'route-add':
      return ['route', 'replace', ...routeArgs(step.route, step.ifname)];
    case 'route-del':
      return ['route', 'del', ...routeArgs(step.route, step.ifname)];
    case 'forwarding-on':
    case 'uplink-set':
    case 'uplink-del':
      return undefined;
  }
}

/** A one-line rendering of any step, for logs and --dry-run: a shell command line (the uplink's is a summary). */
export function describeStep(step: Step): string {
  switch (step.action) {
    case 'forwarding-on':
      return 'sysctl -w net.ipv4.ip_forward=1';
    case 'uplink-set':
      return `nft: table ip guestnet set (${step.table.chains.map((c) => CHAIN_PURPOSE[c.hook]).join(', ')})`;
    case 'uplink-del':
      return 'nft: table ip guestnet removed';
    default:
      return shellCommand(['ip', ...(ipArgs(step, 'iproute2') ?? [])]);
  }
}

const CHAIN_PURPOSE = { postrouting: 'masquerade 100.64.0.0/16', forward: 'client isolation' } as const;

/**
 * Turns an `ip` error text into a cause, or undefined when the answer means
 * the step's goal already holds (another run got there first).
 */
export function classifyIpError(step: Step, text: string): string | undefined {
  const msg = text.replace(/^(ip: )?(RTNETLINK answers: |Error: )?/gm, '').trim();
  const isDelete = step.action === 'addr-del' || step.action === 'route-del';
  if (/File exists/.test(msg) && !isDelete) return undefined;
  if (isDelete && /No such process|Cannot assign requested address|No such file or directory/.test(msg)) return undefined;
  return causeOf(msg);
}

export function causeOf(msg: string): string {
  if (/Operation not permitted|Permission denied/.test(msg)) return 'permission denied (run as root or with CAP_NET_ADMIN)';
  if (/Cannot find device|No such device/.test(msg)) return 'no such interface (it vanished)';
  return msg.split('\n')[0] || 'failed';
}
