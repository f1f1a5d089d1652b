import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, veth, type Ran } from '../helpers/netns';
import { BACKENDS } from './backends';

// "configured" and exit 0 mean the kernel has the state: an option change
// keeps the routes and cleans up after itself, a failing `ip` is a failure,
// and drift the backend did not see is caught by reading the state back.

const CLIENT_MAC = '0a:b3:ec:00:a5:46';
const PROVIDER_MAC = '0a:b3:ec:80:a5:46';
const METRIC = 1024 + 0xa546;

let app: Netns;
let net: Netns;
beforeEach(() => {
  app = new Netns('cv-app');
  net = new Netns('cv-net');
  veth(app, 'c0', CLIENT_MAC, net, 'p0', PROVIDER_MAC);
});
afterEach(() => {
  app.delete();
  net.delete();
});

interface Status {
  ifname: string;
  drifted?: boolean;
}
const drifted = (ns: Netns, flags: readonly string[], ...opts: string[]): string[] => {
  const list = (JSON.parse(ns.guestnet(['status', '--json', ...flags, ...opts]).stdout) as { interfaces: Status[] }).interfaces;
  return list.filter((s) => s.drifted).map((s) => s.ifname);
};
const clientRoutes = (gw: string) => [`${gw} dev c0 metric ${METRIC}`, `default via ${gw} dev c0 metric ${METRIC}`].sort();

describe.each(BACKENDS)('option changes (%s backend)', (_name, flags) => {
  const apply = (ns: Netns, ...args: string[]) => ns.guestnet(['apply', ...flags, ...args]);

  test('a prefix change keeps the routes in one run, and status agrees', () => {
    expect(apply(app).code).toBe(0);
    for (const prefix of ['16', '24', '32']) {
      const r = apply(app, '--prefix', prefix);
      expect(r).toMatchObject({ code: 0 });
      expect(app.addrs('c0')).toEqual([`100.64.165.70/${prefix}`]);
      expect(app.routes()).toEqual(clientRoutes('169.254.0.1'));
      expect(drifted(app, flags, '--prefix', prefix)).toEqual([]);
    }
  });
});

describe.each(BACKENDS)('kernel side effects the plan does not foresee (%s backend)', (_name, flags) => {
  test('a wanted address that was a secondary goes with its primary; a second round puts it back', () => {
    // Without promote_secondaries, deleting a primary address deletes its secondaries too.
    app.sh(`sysctl -qw net.ipv4.conf.all.promote_secondaries=0 net.ipv4.conf.c0.promote_secondaries=0
      ip link set c0 up && ip addr add 100.64.5.5/16 dev c0`);
    const r = app.guestnet(['apply', ...flags, '--prefix', '16']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stderr.match(/ip addr (replace|add) 100\.64\.165\.70\/16 dev c0/g)).toHaveLength(2);
    expect(app.addrs('c0')).toEqual(['100.64.165.70/16']);
    expect(app.routes()).toEqual(clientRoutes('169.254.0.1'));
    expect(drifted(app, flags, '--prefix', '16')).toEqual([]);
  });

  test('a stale secondary that went with its primary is no error ("Address not found" on delete)', () => {
    app.sh(`sysctl -qw net.ipv4.conf.all.promote_secondaries=0 net.ipv4.conf.c0.promote_secondaries=0
      ip link set c0 up && ip addr add 100.64.165.70/24 dev c0 && ip addr add 100.64.165.10/24 dev c0`);
    const r = app.guestnet(['apply', ...flags]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r).toMatchObject({ code: 0 });
    expect(app.addrs('c0')).toEqual(['100.64.165.70/32']);
  });
});

describe.each(BACKENDS)('marked state (%s backend)', (_name, flags) => {
  const apply = (ns: Netns, ...args: string[]) => ns.guestnet(['apply', ...flags, ...args]);

  test('a gateway change and back cleans up after itself; status calls leftovers drift', () => {
    expect(apply(app, '--gateway', '198.51.100.1').code).toBe(0);
    expect(app.routes()).toEqual(clientRoutes('198.51.100.1'));
    expect(drifted(app, flags)).toEqual(['c0']); // the old gateway's routes are guestnet's and unwanted now
    expect(apply(app).code).toBe(0);
    expect(app.routes()).toEqual(clientRoutes('169.254.0.1'));
    expect(drifted(app, flags)).toEqual([]);
    expect(apply(app, '--gateway', '198.51.100.1').code).toBe(0);
    expect(app.routes()).toEqual(clientRoutes('198.51.100.1'));
  });

  test('routes carry guestnet\'s protocol, 179', () => {
    expect(apply(app).code).toBe(0);
    const routes = JSON.parse(app.sh('ip -j -N -4 route show dev c0')) as { protocol: string }[];
    expect(routes.map((r) => r.protocol)).toEqual(['179', '179']);
  });
});

test('netlink marks addresses too: a provider drops its old gateway address', () => {
  const apply = (...args: string[]) => net.guestnet(['apply', '--backend', 'netlink', ...args]);
  expect(apply('--gateway', '198.51.100.1').code).toBe(0);
  expect(net.addrs('p0')).toEqual(['198.51.100.1/32']);
  expect(apply().code).toBe(0);
  expect(net.addrs('p0')).toEqual(['169.254.0.1/32']);
  expect(net.routes()).toEqual(['100.64.165.70 dev p0 metric 0']);
});

/** A fake `ip`: a shell script in a directory whose name decides the flavor guestnet detects. */
function fakeIp(flavor: 'iproute2' | 'busybox', body: string): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gn-fake-'));
  const sub = join(dir, flavor === 'busybox' ? 'busybox-fake' : 'bin');
  mkdirSync(sub);
  const path = join(sub, 'ip');
  const real = flavor === 'busybox' ? 'busybox ip' : 'ip';
  writeFileSync(path, `#!/bin/sh\nREAL="${real}"\n${body}\nexec $REAL "$@"\n`);
  chmodSync(path, 0o755);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// A change is anything but the state reads (iproute2: -j ... -batch; busybox: -o ... addr show).
const IS_CHANGE = 'case "$*" in *-force*|*replace*|*" del "*|link*) CHANGE=1;; *) CHANGE=;; esac';
const FAILURES: [string, string][] = [
  ['exits 3', 'exit 3'],
  ['is killed by a signal', 'kill -9 $$'],
  ['answers "No buffer space available"', 'echo "RTNETLINK answers: No buffer space available" >&2; exit 2'],
];

describe.each(['iproute2', 'busybox'] as const)('a failing ip (%s)', (flavor) => {
  test.each(FAILURES)('an ip that %s: exit 1, the interface named, nothing called configured', (_what, fail) => {
    const ip = fakeIp(flavor, `${IS_CHANGE}\n[ -n "$CHANGE" ] && { ${fail}; }`);
    try {
      const r: Ran = app.guestnet(['apply', '--backend', 'ip', '--ip-binary', ip.path]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^guestnet: c0: error: /m);
      expect(r.stderr).not.toContain('configured');
    } finally {
      ip.cleanup();
    }
  });

  test('an ip that answers success but leaves routes out: exit 1 naming what is missing', () => {
    // Reads pass; every change runs, except route commands, which "succeed" without effect.
    const drop = flavor === 'iproute2'
      ? 'case "$*" in *-force*) grep -v "^route" | $REAL "$@"; exit $?;; esac'
      : 'case "$1" in route) exit 0;; esac';
    const ip = fakeIp(flavor, drop);
    try {
      const r = app.guestnet(['apply', '--backend', 'ip', '--ip-binary', ip.path]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^guestnet: c0: error: still not as wanted after 3 rounds; left to do: ip route replace 169\.254\.0\.1\/32 dev c0/m);
      expect(r.stderr).not.toContain('configured');
      expect(app.addrs('c0')).toEqual(['100.64.165.70/32']);
    } finally {
      ip.cleanup();
    }
  });
});

describe.each(['iproute2', 'busybox'] as const)('a link set down behind guestnet\'s back (%s)', (flavor) => {
  test('the routes it flushed are put back in a second round: exit 0, configured, state right', () => {
    // After the first change that installs the default route, the link goes down once (routes flushed).
    const once = `[ -e "$(dirname "$0")/done" ] || { touch "$(dirname "$0")/done"; $REAL link set dev c0 down; }`;
    const hook = flavor === 'iproute2'
      ? `case "$*" in *-force*) $REAL "$@"; rc=$?; ${once}; exit $rc;; esac`
      : `case "$*" in *"route replace default"*) $REAL "$@"; rc=$?; ${once}; exit $rc;; esac`;
    const ip = fakeIp(flavor, hook);
    try {
      const r = app.guestnet(['apply', '--backend', 'ip', '--ip-binary', ip.path]);
      expect(r).toMatchObject({ code: 0 });
      expect(r.stderr.match(/ip link set dev c0 up/g)).toHaveLength(2);
      expect(r.stderr).toContain('c0: configured as client');
      expect(app.routes()).toEqual(clientRoutes('169.254.0.1'));
      expect(drifted(app, ['--backend', 'ip'])).toEqual([]);
    } finally {
      ip.cleanup();
    }
  });
});
