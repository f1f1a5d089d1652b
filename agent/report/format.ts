import { dnsLines, statusLines, uplinkLines } from '../entry/format';
import type { LinkCounters } from './link-stats';
import type { MachineFacts } from './machine';
import type { Check, Report, ReportInterface } from './types';

// The human rendering of `guestnet report`, for a person at a console.

function bytes(n: number | string): string {
  return typeof n === 'number' ? `${(n / 2 ** 20).toFixed(0)} MiB` : n;
}

const onOff = (b: boolean): string => (b ? 'on' : 'off');
const yesNo = (b: boolean | string): string => (b === true ? 'yes' : b === false ? 'no' : b);

function machineLines(m: MachineFacts): string[] {
  const virtual = m.virtual === true ? `yes (${m.hypervisor})` : yesNo(m.virtual);
  return [
    `virtual: ${virtual}`,
    `os: ${m.os}, kernel ${m.kernel}, ${m.arch}`,
    `cpu: ${m.cpu.count} x ${m.cpu.model}`,
    `memory: ${bytes(m.memory.totalBytes)} total, ${bytes(m.memory.availableBytes)} available`,
  ];
}

const side = (c: LinkCounters, dir: 'rx' | 'tx'): string =>
  dir === 'rx'
    ? `rx ${c.rxPackets} packets, ${c.rxErrors} errors, ${c.rxDropped} dropped`
    : `tx ${c.txPackets} packets, ${c.txErrors} errors, ${c.txDropped} dropped`;

function interfaceLines(i: ReportInterface): string[] {
  return [
    ...statusLines(i),
    `  operstate ${i.operstate}, carrier ${yesNo(i.carrier)}, mtu ${i.mtu}; ${side(i.counters, 'rx')}; ${side(i.counters, 'tx')}`,
  ];
}


export const checkText = (c: Check): string => `${c.id}: ${c.verdict}${c.detail ? `: ${c.detail}` : ''}`;

export function formatReport(r: Report): string {
  const g = r.guestnet;
  const sections = [
    `guestnet ${g.version}`,
    `  backend ${g.backend}, scheme ${g.scheme}, gateway ${g.gateway}, client prefix /${g.clientPrefix}, ` +
      `default route ${onOff(g.defaultRoute)}, masquerade ${onOff(g.masquerade)}, client isolation ${onOff(g.isolate)}, ` +
      `client flow limit ${g.clientFlowLimit}, open ports ${g.openPorts.join(' ') || 'none'}`,
    'machine',
    ...machineLines(r.machine).map((l) => `  ${l}`),
    'interfaces',
    ...r.interfaces.flatMap((i) => interfaceLines(i).map((l) => `  ${l}`)),
    'uplink',
    `  ip_forward: ${onOff(r.uplink.forwarding)}`,
    ...uplinkLines(r.uplink.table).map((l) => `  ${l}`),
    'dns',
    ...dnsLines(r.dns).map((l) => `  ${l}`),
    'checks',
    ...r.checks.map((c) => `  ${checkText(c)}`),
  ];
  return sections.map((l) => l + '\n').join('');
}
