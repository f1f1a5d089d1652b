import type { Systeminformation } from 'systeminformation';

// The machine section of `guestnet report`: facts systeminformation is good
// at. Every probe is bounded in time and any it cannot answer reads "unknown",
// so a busybox-only guest (no lscpu, no dmidecode) still gets its report.

export const UNKNOWN = 'unknown';
export type Unknown = typeof UNKNOWN;

/** The part of systeminformation the report asks; tests pass a fake. */
export interface MachineProbe {
  system(): Promise<Pick<Systeminformation.SystemData, 'virtual' | 'virtualHost'>>;
  osInfo(): Promise<Pick<Systeminformation.OsData, 'distro' | 'release' | 'kernel' | 'arch'>>;
  cpu(): Promise<Pick<Systeminformation.CpuData, 'manufacturer' | 'brand' | 'cores' | 'flags'>>;
  mem(): Promise<Pick<Systeminformation.MemData, 'total' | 'available'>>;
}

export interface MachineFacts {
  /** Whether this is a virtual machine; "unknown" when no probe could tell. */
  readonly virtual: boolean | Unknown;
  /** The hypervisor systeminformation names, "none" on bare metal. */
  readonly hypervisor: string;
  readonly os: string;
  readonly kernel: string;
  readonly arch: string;
  readonly cpu: { readonly model: string; readonly count: number | Unknown };
  readonly memory: { readonly totalBytes: number | Unknown; readonly availableBytes: number | Unknown };
}

/** A probe's answer, or undefined when it failed or took longer than `ms`. */
export async function within<T>(probe: () => Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([probe().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const known = (s: string | undefined): string => (s && s.trim() && s !== UNKNOWN ? s.trim() : UNKNOWN);
const count = (n: number | undefined): number | Unknown => (n !== undefined && n > 0 ? n : UNKNOWN);

type SystemAnswer = Awaited<ReturnType<MachineProbe['system']>>;

/**
 * systeminformation says virtual=false both on bare metal and when the tools
 * it asks (dmesg, lscpu, ls) are missing; the CPU's `hypervisor` flag tells
 * them apart when it could read the flags at all.
 */
function virtualization(sys: SystemAnswer | undefined, cpuFlags: string): Pick<MachineFacts, 'virtual' | 'hypervisor'> {
  if (sys?.virtual) return { virtual: true, hypervisor: known(sys.virtualHost) };
  const flags = cpuFlags.split(/\s+/).filter(Boolean);
  if (flags.length === 0) return { virtual: UNKNOWN, hypervisor: UNKNOWN };
  return flags.includes('hypervisor') ? { virtual: true, hypervisor: UNKNOWN } : { virtual: false, hypervisor: 'none' };
}

/**
 * The `flags` line of /proc/cpuinfo. Without lscpu, systeminformation falls
 * back to the line ARM calls `Features`, so an x86 busybox guest got none.
 */
export function cpuinfoFlags(cpuinfo: string): string {
  return /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? '';
}

/** Asks the four probes at once, each bounded by `timeoutMs`; `cpuinfo` is /proc/cpuinfo's text. */
export async function probeMachine(si: MachineProbe, timeoutMs: number, cpuinfo = ''): Promise<MachineFacts> {
  const [sys, os, cpu, mem] = await Promise.all([
    within(() => si.system(), timeoutMs),
    within(() => si.osInfo(), timeoutMs),
    within(() => si.cpu(), timeoutMs),
    within(() => si.mem(), timeoutMs),
  ]);
  const distro = known(os?.distro);
  return {
    ...virtualization(sys, cpu?.flags || cpuinfoFlags(cpuinfo)),
    os: distro === UNKNOWN ? UNKNOWN : `${distro} ${os?.release && os.release !== UNKNOWN ? os.release : ''}`.trim(),
    kernel: known(os?.kernel),
    arch: known(os?.arch),
    cpu: { model: known(`${cpu?.manufacturer ?? ''} ${cpu?.brand ?? ''}`), count: count(cpu?.cores) },
    memory: { totalBytes: count(mem?.total), availableBytes: count(mem?.available) },
  };
}
