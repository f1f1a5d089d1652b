// What every VM test needs before it boots anything: the images from
// `make images` and a host that can run them. Each failure names its fix.
import { execFileSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';

/** Every image file the boot contract needs; missing ones fail the test. */
export function checkImages(vms: string): void {
  const need = [
    'appvm/vmlinux', 'appvm/initramfs', 'appvm/rootfs.ext4', 'appvm/providers/net/netvm',
    'netvm/vmlinux', 'netvm/initramfs', 'netvm/rootfs.ext4',
  ];
  if (!existsSync(vms)) throw new Error(`${vms} does not exist: run "make images" first (this test boots those images)`);
  const missing = need.filter((f) => !existsSync(join(vms, f)));
  if (missing.length > 0) {
    throw new Error(`VM images missing in ${vms} (${missing.join(', ')}): run "make images" first`);
  }
}

export function checkHost(): void {
  if (process.getuid?.() !== 0) throw new Error('the VM test needs root (network namespaces, taps)');
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('qemu-system-x86_64 not found (apt-get install qemu-system-x86)');
  }
}
