import type { Backend } from '../apply/backend';
import { DEFAULT_BOUNDARY } from '../convention/boundary';
import { readDnsFacts } from '../dns/state';
import { runChecks } from '../report/checks';
import { readLinkStats } from '../report/link-stats';
import type { MachineFacts } from '../report/machine';
import { REPORT_SCHEMA, type Report } from '../report/types';
import { IP_FORWARD, readForwarding } from '../state/procfs';
import type { Context } from './common';
import { status } from './status';
import { version } from '../../package.json';

export interface ReportDeps {
  /** The machine section: systeminformation in a bounded child, or a fake in tests. */
  readonly machine: () => Promise<MachineFacts>;
  readonly forwardingPath?: string;
  /** Where `guestnet dns` keeps its state (its --state-dir). */
  readonly dnsStateDir?: string;
}

/**
 * `guestnet report`: everything a person debugging a guest's network needs,
 * in one read-only pass. Interfaces and the uplink table are what `status`
 * shows, with sysfs's operstate, carrier, MTU and counters added.
 */
export async function report(backend: Backend, ctx: Context, deps: ReportDeps): Promise<Report> {
  const [st, machine] = await Promise.all([status([], backend, ctx), deps.machine()]);
  const interfaces = st.interfaces.map((s) => ({ ...s, ...readLinkStats(ctx.sysfs, s.ifname) }));
  const uplink = { forwarding: readForwarding(deps.forwardingPath ?? IP_FORWARD), table: st.uplink };
  const { scheme, gateway, clientPrefix, defaultRoute } = ctx.derive;
  const { masquerade, isolate, flowLimit: clientFlowLimit, openPorts } = ctx.boundary ?? DEFAULT_BOUNDARY;
  const firewall = { masquerade, isolate, clientFlowLimit, openPorts: openPorts.map((p) => `${p.proto}/${p.port}`) };
  return {
    schema: REPORT_SCHEMA,
    guestnet: { version, backend: backend.name, scheme, gateway, clientPrefix, defaultRoute, ...firewall },
    machine,
    interfaces,
    uplink,
    dns: readDnsFacts(deps.dnsStateDir),
    checks: runChecks({ interfaces, uplink, defaultRoute, gateway }),
  };
}

/** A problem fails the report; hints do not. */
export const reportOk = (r: Report): boolean => r.checks.every((c) => c.verdict !== 'problem');
