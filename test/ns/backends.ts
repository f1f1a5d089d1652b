import { busyboxIpDir } from '../helpers/netns';

// Every namespace suite runs once per backend: rtnetlink, iproute2's
// `ip -batch` and busybox's `ip` applet.

const busybox = busyboxIpDir();
afterAll(() => busybox.cleanup());

export const BACKENDS: [string, string[]][] = [
  ['netlink', ['--backend', 'netlink']],
  ['iproute2', ['--backend', 'ip']],
  ['busybox', ['--backend', 'ip', '--ip-binary', busybox.ip]],
];
