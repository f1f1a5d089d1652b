// A netvm's uplink as its hvc0 shell shows it, and the commands a client
// runs to reach the upstream host (upstream.ts): shared by the VM tests that
// give the netvm a hardware NIC.
import { poll } from './checks';
import { VirtioConsole } from './console';
import type { HostSide } from './fixture';
import type { Qmp } from './qmp';
import { LEASE_FIRST, LEASE_LAST, WHOAMI_BY_NAME, WHOAMI_URL, type Upstream } from './upstream';

// busybox wget's own -T crashes (static 1.35); timeout(1) bounds it instead.
export const FETCH = `timeout 10 wget -q -O - ${WHOAMI_URL}`;
/** The same page by name, which only the netvm's `guestnet dns` can resolve for an app VM. */
export const FETCH_BY_NAME = `timeout 10 wget -q -O - ${WHOAMI_BY_NAME}`;
export const pingOnce = (addr: string) => `ping -c 1 -W 2 ${addr}`;

/** afterAll: closes QMP and the consoles, then stops the upstream servers, the VMs and the namespace, even if a close failed. */
export async function stopAll(host: HostSide | undefined, upstream: Upstream | undefined, consoles: Record<string, VirtioConsole>, qmp?: Qmp): Promise<void> {
  try {
    qmp?.close();
    await Promise.all(Object.values(consoles).map((c) => c.close()));
  } finally {
    upstream?.stop();
    await host?.stop();
  }
}

/** Runs `command` until it exits 0; its output. */
export const until = (con: VirtioConsole, command: string, timeoutMs = 120_000) =>
  poll(`"${command}" in ${con.name}`, async () => {
    const r = await con.run(command);
    return r.status === 0 ? r.out : undefined;
  }, timeoutMs);

/** The netvm's interface with `mac`, once it exists. */
export const ifaceWith = async (net: VirtioConsole, mac: string) =>
  (await until(net, `grep -l ${mac} /sys/class/net/*/address`)).split('/')[4];

/** The lease on `ifname`, once udhcpc got one; asserts it is the NIC's only address. */
export async function leaseOn(net: VirtioConsole, ifname: string): Promise<string> {
  const out = await until(net, `ip -4 -o addr show dev ${ifname} | grep -q 203.0.113 && ip -4 -o addr show dev ${ifname}`);
  // guestnet left the hardware NIC alone: the lease is its only address.
  const addrs = [...out.matchAll(/inet (\S+)/g)].map((m) => m[1]);
  expect(addrs).toHaveLength(1);
  expect(addrs[0]).toMatch(/^203\.0\.113\.\d+\/24$/);
  const host = Number(addrs[0].split('/')[0].split('.')[3]);
  expect(host).toBeGreaterThanOrEqual(LEASE_FIRST);
  expect(host).toBeLessThanOrEqual(LEASE_LAST);
  return addrs[0].split('/')[0];
}
