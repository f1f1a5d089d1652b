// What the VM tests share: where the images are, the convention's MACs, and
// Spectrum's host side for a set of inter-guest links (a throwaway namespace
// with one bridge per link and a tap per VM end), removed again with the VMs
// booted in it.
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { Arch, MACHINES } from './arch';
import { Netns } from './netns';
import { Vm, VmOptions } from './qemu';

export const ROOT = resolve(__dirname, '../..');
export const VMS = MACHINES.amd64.vms;

export const clientMac = (pp: string) => `0a:b3:ec:00:${pp}`;
export const providerMac = (pp: string) => `0a:b3:ec:80:${pp}`;

/** One inter-guest link: its bridge, the client end's tap and, if it has one, the provider end's. */
export interface Link {
  bridge: string;
  client: string;
  provider?: string;
  /** the MAC's last two octets, "PP:QQ" */
  pp: string;
  /** the client's address, 100.64.PP.QQ */
  addr: string;
}

export class HostSide {
  private readonly vms: Vm[] = [];

  private constructor(
    readonly ns: Netns,
    /** where qemu's QMP and console sockets go */
    readonly sockDir: string,
    /** the architecture of the VMs booted here */
    readonly arch: Arch,
  ) {}

  /** The namespace with every link wired; nothing is left behind if that fails. */
  static create(links: readonly Link[], arch: Arch = 'amd64'): HostSide {
    const host = new HostSide(Netns.create(), mkdtempSync(join(tmpdir(), 'gn-vm-')), arch);
    try {
      for (const l of links) {
        host.ns.addBridge(l.bridge);
        host.ns.addTap(l.client, l.bridge);
        if (l.provider) host.ns.addTap(l.provider, l.bridge);
      }
    } catch (err) {
      host.remove();
      throw err;
    }
    return host;
  }

  socket(file: string): string {
    return join(this.sockDir, file);
  }

  /** Boots `image` of the architecture's images (build/vms/`image` for amd64) inside the namespace. */
  boot(image: string, opts: Omit<VmOptions, 'imageDir' | 'netns' | 'arch'>): Vm {
    const vm = new Vm({ ...opts, imageDir: join(MACHINES[this.arch].vms, image), netns: this.ns.name, arch: this.arch });
    this.vms.push(vm);
    return vm;
  }

  /** Stops every VM, then removes the namespace and the sockets, even if a stop failed. */
  async stop(): Promise<void> {
    try {
      await Promise.all(this.vms.map((vm) => vm.stop()));
    } finally {
      this.remove();
    }
  }

  private remove(): void {
    this.ns.delete();
    rmSync(this.sockDir, { recursive: true, force: true });
  }
}
