// What the workloads measure, as written to bench/results/*.json and read
// back by the report: plain data, no I/O.

export interface Variant {
  readonly label: string;
  readonly bin: string;
  readonly args: readonly string[];
  available: boolean;
  reason?: string;
}

export interface StartupRow {
  readonly label: string;
  readonly cmd: string;
  readonly ms: number[];
  rssKiB: number;
}

export type ProgramKind = 'floor' | 'reference' | 'guestnet';

export interface BootRow {
  readonly n: number;
  readonly key: string;
  readonly label: string;
  readonly kind: ProgramKind;
  readonly ms: number[];
  ok: boolean;
  reason?: string;
  errors: number;
  rssKiB?: number;
  readonly cpuMs: number[];
}

/** One `apply` of one link, timed: see bench/uplink.ts. */
export interface UplinkRow {
  readonly variant: string;
  readonly case: string;
  readonly ms: number[];
  readonly cpuMs: number[];
  errors: number;
}

export interface HotplugLane {
  readonly key: string;
  readonly label: string;
  readonly how: string;
  readonly ms: number[];
  failures: number;
  ok: boolean;
  reason?: string;
  /** A watch's VmRSS once the configured links are in place, before the events. */
  rssKiB?: number;
}

export interface HotplugResults {
  base: number;
  events: number;
  watch: { available: boolean; reason?: string };
  lanes: HotplugLane[];
}

export interface Machine {
  nproc: number;
  cpu: string;
  kernel: string;
  memGiB: number;
  background: { beforePct: number; duringPct: number };
  guestnet: string;
  commit: string;
  bun: string;
  iproute2: string;
  busybox: string;
}

export interface Results {
  date: string;
  durationS: number;
  machine: Machine;
  config: { sizes: number[]; events: number; hotplugBase: number[]; quick: boolean };
  variants: Variant[];
  startup: StartupRow[];
  /** Absent in results written before the uplink workload existed. */
  uplink?: UplinkRow[];
  boot: BootRow[];
  /** One per base (links already configured), smallest first. */
  hotplug: HotplugResults[];
  /** Absent in results written before the DNS workload existed. */
  dns?: DnsResults;
}

/** One forwarder answering one query file (bench/dns.ts). */
export interface DnsRow {
  server: string;
  queries: 'distinct' | 'hot';
  /** Distinct names in the query file. */
  names: number;
  /** Queries a second dnsperf offers (-Q); absent: as many as it can with 100 outstanding. */
  rate?: number;
  /** dnsperf's queries a second, one per round. */
  qps: number[];
  /** Latency percentiles over every answered query of every round (dnsperf -v). */
  p50Ms: number;
  p99Ms: number;
  answered: number;
  lost: number;
  /** CPU seconds the forwarder used over all its rounds. */
  cpuS: number;
  /** Peak RSS (VmHWM) of the forwarder at the end. */
  rssKiB?: number;
}

export interface DnsResults {
  date: string;
  seconds: number;
  rounds: number;
  rows: DnsRow[];
}

export interface IdleRow {
  label: string;
  ok: boolean;
  reason?: string;
  wallS?: number;
  cpuS?: number;
  cpuPct?: number;
  wakeupsPerS?: number;
  rssKiB?: number;
  hwmKiB?: number;
  threads?: number;
  note?: string;
}

/** `make bench-idle` writes these apart (idle.json), so the report can merge an older idle run. */
export interface IdleResults {
  date: string;
  build?: string;
  seconds: number;
  links: number;
  rows: IdleRow[];
}

/** The boot row for N links and program `key`, if it measured anything. */
export function bootRow(r: Results, n: number, key: string): BootRow | undefined {
  const row = r.boot.find((b) => b.n === n && b.key === key);
  return row?.ok && row.ms.length > 0 ? row : undefined;
}

/** The hotplug run with the fewest links already configured: the one the per-link targets speak of. */
export const smallestBase = (r: Results): HotplugResults => r.hotplug[0];

/** One cell of the forwarding lane (bench/forward.ts): iperf3 throughput, one sample a round. */
export interface ForwardRow {
  readonly links: number;
  readonly firewall: 'guestnet' | 'masquerade-only';
  readonly proto: 'tcp' | 'udp';
  readonly gbps: number[];
}

/** `make bench` and `--forward-only` write these apart (forward.json), like the idle run. */
export interface ForwardResults {
  date: string;
  /** The netvm's command, e.g. `guestnet apply --backend auto`. */
  variant: string;
  quick: boolean;
  rows: ForwardRow[];
}

/** One command, timed as this machine's build and as the aarch64 build under qemu-user: see bench/emulated.ts. */
export interface EmulatedRow {
  readonly label: string;
  readonly native: number[];
  readonly emulated: number[];
  errors: number;
}

/** The emulated lane (emulated.json), written by `make bench` and `--emulated`. */
export interface EmulatedResults {
  date: string;
  available: boolean;
  reason?: string;
  /** qemu-user's version line and the aarch64 build's date */
  qemu?: string;
  build?: string;
  /** CPU used outside the benchmark during the lane, % of the machine (see machine.ts) */
  othersPct?: number;
  rows: EmulatedRow[];
}
