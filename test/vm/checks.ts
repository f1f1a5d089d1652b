// Preconditions and console-reading helpers shared by the VM tests.
import { execFileSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import { Arch, MACHINES } from './arch';
import { Vm } from './qemu';

/** Every image file the boot contract needs; missing ones fail the test. */
export function checkImages(vms: string, make = 'make images'): void {
  const need = [
    'appvm/vmlinux', 'appvm/initramfs', 'appvm/rootfs.ext4', 'appvm/providers/net/netvm',
    'netvm/vmlinux', 'netvm/initramfs', 'netvm/rootfs.ext4',
  ];
  if (!existsSync(vms)) throw new Error(`${vms} does not exist: run "${make}" first (this test boots those images)`);
  const missing = need.filter((f) => !existsSync(join(vms, f)));
  if (missing.length > 0) {
    throw new Error(`VM images missing in ${vms} (${missing.join(', ')}): run "${make}" first`);
  }
}

export function checkHost(arch: Arch = 'amd64'): void {
  if (process.getuid?.() !== 0) throw new Error('the VM test needs root (network namespaces, taps)');
  const { qemu, qemuPackage } = MACHINES[arch];
  try {
    execFileSync(qemu, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${qemu} not found (apt-get install ${qemuPackage})`);
  }
}

/** Waits for a `re` line at or after `from` whose first group satisfies `pred`. */
export async function waitLine(
  vm: Vm, re: RegExp, pred: (value: string) => boolean, from: number, timeoutMs: number,
): Promise<{ value: string; end: number; atMs: number }> {
  const deadline = Date.now() + timeoutMs;
  let at = from;
  for (;;) {
    const m = await vm.waitFor(re, Math.max(1, deadline - Date.now()), at);
    if (pred(m.match[1])) return { value: m.match[1], end: m.end, atMs: m.atMs };
    at = m.end;
  }
}

/** Polls `probe` until it returns a value (not undefined) or the time is up. */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether a `;`-joined `ip route` listing has a route to `addr`. */
export const hasRoute = (routes: string, addr: string) =>
  routes.split(';').some((r) => r.trim().startsWith(`${addr} dev `));
