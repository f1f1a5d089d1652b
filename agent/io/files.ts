// Synchronous file I/O for every start: stdout and stderr, sysfs attributes,
// /proc/sys/net/ipv4/ip_forward. Under node (jest, the `ip` backend) it is
// node:fs (files-node.ts). The compiled executable gets files-bun.ts in its
// place (agent/build/compile.ts swaps the module): libc's open/read/write over
// bun:ffi, which the netlink backend loads anyway. Importing node:fs costs
// ~2.7 M instructions (~1.5 ms) of every start, more than guestnet's own
// work on a VM without links; choosing at run time would need require(),
// itself ~0.6 M. Both modules export the same functions and throw node's
// errors (`code`, `syscall`, `path`).
export { listDir, readText, writeSome, writeText } from './files-node';
