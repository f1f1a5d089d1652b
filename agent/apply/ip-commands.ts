import { sysctlPath } from '../convention/link-settings';
import { RTPROT_GUESTNET } from '../convention/ownership';
import type { Route } from '../convention/types';
import type { Step, StepOf } from '../plan/steps';
import type { RunResult } from './run';
import { shellCommand } from './shell-quote';

// Step -> `ip` arguments. Pure, so --dry-run prints exactly what would run.

export type IpFlavor = 'iproute2' | 'busybox';

function routeArgs(route: Route, ifname: string): string[] {
  const via = route.via === undefined ? [] : ['via', route.via];
  return [route.dst, ...via, 'dev', ifname, 'metric', String(route.metric)];
}

const groupArgs = (ifname: string, group: number): string[] => ['link', 'set', 'dev', ifname, 'group', String(group)];

/** A link-set step as shell commands: `sysctl -w` per sysctl, then `ip link set dev X group N`. */
export function linkSetCommands(step: StepOf<'link-set'>): string[] {
  const sysctls = step.sysctls.map(({ sysctl, value }) => shellCommand(['sysctl', '-w', `${sysctlPath(step.ifname, sysctl)}=${value}`]));
  return step.group === undefined ? sysctls : [...sysctls, shellCommand(['ip', ...groupArgs(step.ifname, step.group)])];
}

/** The `ip` arguments for a step, or undefined for steps that are not `ip` commands. */
export function ipArgs(step: Step, flavor: IpFlavor): string[] | undefined {
  switch (step.action) {
    case 'link-set':
      // The sysctls are file writes; busybox's `ip` has no `group` (sysfs then).
      return step.group === undefined || flavor === 'busybox' ? undefined : groupArgs(step.ifname, step.group);
    case 'link-up':
      return ['link', 'set', 'dev', step.ifname, 'up'];
    case 'addr-add':
      // busybox has no `addr replace`; its "File exists" counts as success.
      return ['addr', flavor === 'iproute2' ? 'replace' : 'add', `${step.addr.address}/${step.addr.prefix}`, 'dev', step.ifname];
    case 'addr-del':
      return ['addr', 'del', `${step.addr.address}/${step.addr.prefix}`, 'dev', step.ifname];
    case 'route-add':
      // The mark that makes the route guestnet's whatever the options (busybox takes it too).
      return ['route', 'replace', ...routeArgs(step.route, step.ifname), 'proto', String(RTPROT_GUESTNET)];
    case 'route-del':
      return ['route', 'del', ...routeArgs(step.route, step.ifname)];
    case 'forwarding-on':
    case 'uplink-set':
    case 'uplink-del':
      return undefined;
  }
}

// iproute2's batch reader cuts every line at its first '#', joins a line
// ending in a backslash with the next, splits words at white space and
// takes a word that starts with ' or " up to the next same quote (no
// escapes). Anything else is literal.
/** One word for `ip -batch`, or undefined where the lexer cannot express it ('#' in it). */
export function batchWord(word: string): string | undefined {
  if (word.includes('#') || word.includes('\n')) return undefined;
  if (word !== '' && !/^['"]|\s|\\$/.test(word)) return word;
  if (!word.includes('"')) return `"${word}"`;
  if (!word.includes("'")) return `'${word}'`;
  return undefined;
}

/** A command line for `ip -batch`, or undefined when a word cannot be expressed there. */
export function batchLine(args: readonly string[]): string | undefined {
  const words = args.map(batchWord);
  return words.every((w): w is string => w !== undefined) ? words.join(' ') : undefined;
}

/** Why an `ip` process that gave no per-command answer failed: its signal or exit status, and its first line. */
export function exitCause(out: RunResult): string | undefined {
  if (out.signal === undefined && out.code === 0) return undefined;
  const how = out.signal ? `killed by ${out.signal}` : `exited with status ${out.code}`;
  const text = out.stderr.trim();
  return text ? `${causeOf(classifiable(text))} (ip ${how})` : `ip ${how}`;
}

function classifiable(text: string): string {
  return text.replace(/^(ip: )?(RTNETLINK answers: |Error: )?/gm, '').trim();
}

/** A one-line rendering of any step, for logs and --dry-run: a shell command line (the uplink's is a summary). */
export function describeStep(step: Step): string {
  switch (step.action) {
    case 'forwarding-on':
      return 'sysctl -w net.ipv4.ip_forward=1';
    case 'uplink-set':
      return `nft: table inet guestnet set (${step.table.chains.map((c) => c.name).join(', ')})`;
    case 'uplink-del':
      return 'nft: table inet guestnet removed';
    case 'link-set':
      return linkSetCommands(step).join('; ');
    default:
      return shellCommand(['ip', ...(ipArgs(step, 'iproute2') ?? [])]);
  }
}

/**
 * Turns an `ip` error text into a cause, or undefined when the answer means
 * the step's goal already holds (another run got there first).
 */
export function classifyIpError(step: Step, text: string): string | undefined {
  const msg = classifiable(text);
  const isDelete = step.action === 'addr-del' || step.action === 'route-del';
  if (/File exists/.test(msg) && !isDelete) return undefined;
  // iproute2 prints the kernel's extended-ack text where there is one ("ipv4: Address not found").
  if (isDelete && /No such process|Cannot assign requested address|No such file or directory|Address not found/.test(msg)) return undefined;
  return causeOf(msg);
}

export function causeOf(msg: string): string {
  if (/Operation not permitted|Permission denied/.test(msg)) return 'permission denied (run as root or with CAP_NET_ADMIN)';
  if (/Cannot find device|No such device/.test(msg)) return 'no such interface (it vanished)';
  return msg.split('\n')[0] || 'failed';
}
