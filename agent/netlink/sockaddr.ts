// Socket addresses as the kernel lays them out. Pure bytes, so they are
// tested under node; the bun:ffi callers pass them to bind(2) and sendto(2).

export const AF_UNIX = 1;
export const AF_NETLINK = 16;
const SUN_PATH_MAX = 108;

/** struct sockaddr_nl { u16 family; u16 pad; u32 pid = 0 (kernel picks); u32 groups; } */
export function netlinkAddress(groups = 0): Uint8Array {
  const addr = new Uint8Array(12);
  addr[0] = AF_NETLINK;
  new DataView(addr.buffer).setUint32(8, groups, true);
  return addr;
}

/** sockaddr_un for a path, or for an abstract name written "@name" (as systemd does). */
export function unixAddress(path: string): Uint8Array {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? `\0${path.slice(1)}` : path);
  if (name.length === 0 || name.length >= SUN_PATH_MAX) throw new Error(`bad socket path "${path}"`);
  // A path carries its terminating NUL; an abstract name is exactly its bytes.
  const addr = new Uint8Array(2 + name.length + (abstract ? 0 : 1));
  addr[0] = AF_UNIX;
  addr.set(name, 2);
  return addr;
}
