import { describeStep } from './apply/ip-commands';
import type { Addr, Route } from './convention/types';
import type { ApplyResult } from './commands/apply';
import type { DeriveResult } from './commands/derive';
import type { InterfaceStatus } from './commands/status';

// Human renderings of command results for stdout; --json prints the results as they are.

const addrText = (a: Addr): string => `${a.address}/${a.prefix}`;

export function routeText(r: Route): string {
  return `${r.dst}${r.via ? ` via ${r.via}` : ''} metric ${r.metric}`;
}

/** A plan (apply or flush --dry-run) as shell command lines, one a line. */
export function formatPlan(result: { readonly steps: ApplyResult['steps'] }): string {
  return result.steps.map((s) => describeStep('step' in s ? s.step : s) + '\n').join('');
}

export function formatDerive(r: DeriveResult): string {
  return [`${addrText(r.addr)} ${r.role}`, ...r.routes.map((route) => `route ${routeText(route)}`)].join('\n') + '\n';
}

export function formatStatus(list: readonly InterfaceStatus[]): string {
  const lines: string[] = [];
  for (const s of list) {
    const state = s.drifted === undefined ? '' : s.drifted ? ' DRIFTED' : ' ok';
    lines.push(`${s.ifname} ${s.mac} ${s.kind}${s.up ? '' : ' (down)'}${state}`);
    if (s.expected) {
      lines.push(`  expected: ${addrText(s.expected.addr)}; ${s.expected.routes.map(routeText).join('; ')}`);
    }
    const cur = [...s.current.addrs.map(addrText), ...s.current.routes.map(routeText)];
    if (s.expected || cur.length > 0) lines.push(`  current:  ${cur.join('; ') || '(nothing)'}`);
  }
  return lines.map((l) => l + '\n').join('');
}
