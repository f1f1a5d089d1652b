// What the VM tests do differently per architecture (Debian's names): which
// qemu, which machine and CPU, the serial console's name, where the images
// are, and where a NIC hot-added later goes. The images themselves are alike.
import { join, resolve } from 'path';

export type Arch = 'amd64' | 'arm64';

export interface Machine {
  readonly qemu: string;
  /** the Debian package with `qemu` */
  readonly qemuPackage: string;
  /** -machine and -cpu under TCG; KVM takes the host's CPU instead */
  readonly machine: readonly string[];
  readonly tcgCpu: string;
  /** the kernel's name for the serial console */
  readonly console: string;
  /** the `make images` output this architecture boots */
  readonly vms: string;
  /**
   * PCIe root ports created at start, each taking one device hot-added
   * later: on arm64's `virt` a device_add without a bus fails. x86's `pc`
   * machine takes hot-added devices on its own bus.
   */
  readonly hotplugPorts: number;
  /** the `make` command that builds `vms` */
  readonly makeImages: string;
}

const BUILD = join(resolve(__dirname, '../..'), 'build');

export const MACHINES: Record<Arch, Machine> = {
  amd64: {
    qemu: 'qemu-system-x86_64', qemuPackage: 'qemu-system-x86', machine: [], tcgCpu: 'max',
    console: 'ttyS0', vms: join(BUILD, 'vms'), hotplugPorts: 0, makeImages: 'make images',
  },
  arm64: {
    // Without pauth-impdef=on TCG emulates pointer authentication's QARMA
    // cipher, which makes the whole guest ~3.5 times slower.
    qemu: 'qemu-system-aarch64', qemuPackage: 'qemu-system-arm', machine: ['-machine', 'virt'], tcgCpu: 'max,pauth-impdef=on',
    console: 'ttyAMA0', vms: join(BUILD, 'vms-arm64'), hotplugPorts: 2, makeImages: 'make images ARCH=arm64',
  },
};

/** TCG by default (this machine's KVM does not boot Debian's kernel); GUESTNET_VM_ACCEL=kvm on a host of the same architecture. */
export function accelArgs(arch: Arch = 'amd64'): string[] {
  const m = MACHINES[arch];
  return process.env.GUESTNET_VM_ACCEL === 'kvm'
    ? [...m.machine, '-machine', 'accel=kvm', '-cpu', 'host']
    : [...m.machine, '-machine', 'accel=tcg', '-cpu', m.tcgCpu];
}

/** The root ports for later hot-adds, named hp0, hp1, ... */
export function hotplugPortArgs(arch: Arch): string[] {
  return Array.from({ length: MACHINES[arch].hotplugPorts }, (_, i) => [
    '-device', `pcie-root-port,id=hp${i},chassis=${i + 1}`,
  ]).flat();
}
