import type { DnsFacts } from '../dns/state';
import { describeStep, linkSetCommands } from '../apply/ip-commands';
import { collisionText } from '../convention/collision';
import { LINK_SYSCTLS, type SysctlValues } from '../convention/link-settings';
import type { Addr, Route } from '../convention/types';
import type { ApplyResult } from '../commands/apply';
import type { DeriveResult } from '../commands/derive';
import type { InterfaceStatus, StatusResult, UplinkStatus } from '../commands/status';
import { delScript, setScript } from '../nft/script';
import type { Step } from '../plan/steps';

// Human renderings of command results for stdout; --json prints the results as they are.

const addrText = (a: Addr): string => `${a.address}/${a.prefix}`;

export function routeText(r: Route): string {
  return `${r.dst}${r.via ? ` via ${r.via}` : ''} metric ${r.metric}`;
}

/** A step as --dry-run prints it: a shell command line, or the whole `nft -f -` script as a here-document. */
function planText(step: Step): string {
  if (step.action === 'uplink-set') return `nft -f - <<'EOF'\n${setScript(step.table)}EOF\n`;
  if (step.action === 'uplink-del') return `nft -f - <<'EOF'\n${delScript()}EOF\n`;
  if (step.action === 'link-set') return linkSetCommands(step).map((c) => `${c}\n`).join('');
  return describeStep(step) + '\n';
}

/** A plan (apply or flush --dry-run) as shell input. */
export function formatPlan(result: { readonly steps: ApplyResult['steps'] }): string {
  return result.steps.map((s) => planText('step' in s ? s.step : s)).join('');
}

export function formatDerive(r: DeriveResult): string {
  return [`${addrText(r.addr)} ${r.role}`, ...r.routes.map((route) => `route ${routeText(route)}`)].join('\n') + '\n';
}

/** The resolver as its state file tells it (`report`'s dns section, `status`'s resolver lines). */
export function dnsLines(d: DnsFacts): string[] {
  if (!d.running) return ['not running'];
  const f = d.lastFailure;
  return [
    `listening on ${d.listening} (UDP and TCP) as ${d.user}, pid ${d.pid}`,
    `upstreams: ${d.upstreams.join(', ') || 'none'} (from ${d.source})`,
    `last upstream failure: ${f ? `${f.upstream}: ${f.what}, ${f.at}` : 'none'}`,
  ];
}

/** The firewall's line: ok, DRIFTED and why, or why it cannot be read; nothing on a VM without one. */
export function uplinkLines(u: UplinkStatus): string[] {
  if (u.expected === null && !u.present && !u.legacy && u.error === undefined) return [];
  const state = u.error !== undefined ? `ERROR: ${u.error}` : u.drifted ? `DRIFTED: ${u.drift ?? 'apply would change it'}` : 'ok';
  return [`firewall table inet guestnet ${state}`];
}

/** `group 26478 rp_filter=1 accept_ra=0 autoconf=0` (a sysctl the link lacks: `-`). */
function settingsText(group: number, sysctls: SysctlValues | undefined): string {
  return [`group ${group}`, ...LINK_SYSCTLS.map((k) => `${k.split('/')[1]}=${sysctls?.[k] ?? '-'}`)].join(' ');
}

/** One interface as `status` prints it; `report` prints it too. A provider link's settings get a line each. */
export function statusLines(s: InterfaceStatus): string[] {
  const state = s.drifted === undefined ? '' : s.drifted ? ' DRIFTED' : ' ok';
  const lines = [`${s.ifname} ${s.mac} ${s.kind}${s.up ? '' : ' (down)'}${state}`];
  const settings = s.expected?.settings;
  if (s.expected) {
    const expected = [s.expected.addr ? addrText(s.expected.addr) : '(no address)', ...s.expected.routes.map(routeText)];
    lines.push(`  expected: ${expected.join('; ')}`);
  }
  if (settings) lines.push(`            ${settingsText(settings.group, settings.sysctls)}`);
  if (s.collision) lines.push(`  COLLISION: ${collisionText(s.collision)}`);
  const cur = [...s.current.addrs.map(addrText), ...s.current.routes.map(routeText)];
  if (s.expected || cur.length > 0) lines.push(`  current:  ${cur.join('; ') || '(nothing)'}`);
  if (settings) lines.push(`            ${settingsText(s.group, s.current.sysctls)}`);
  return lines;
}

export function formatStatus(result: StatusResult): string {
  const dns = (result.dns ? dnsLines(result.dns) : []).map((l, i) => (i === 0 ? `resolver (guestnet dns) ${l}` : `  ${l}`));
  const lines = [...result.interfaces.flatMap(statusLines), ...uplinkLines(result.uplink), ...dns];
  return lines.map((l) => l + '\n').join('');
}
