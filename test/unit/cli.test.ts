import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUESTNET } from '../helpers/netns';
import { version } from '../../package.json';

// The shipped executable as a user runs it: output and exit codes (no root needed).

function guestnet(...args: string[]) {
  const r = spawnSync(GUESTNET, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help lists the commands and documents the exit codes', () => {
  const r = guestnet('--help');
  expect(r.code).toBe(0);
  for (const cmd of ['apply [iface..]', 'status [iface..]', 'derive <mac>', 'flush [iface..]', 'watch']) expect(r.stdout).toContain(cmd);
  expect(r.stdout).toMatch(/0 +success/);
  expect(r.stdout).toMatch(/2 +bad usage/);
});

test('a script can probe for a command with --help', () => {
  expect(guestnet('watch', '--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('--notify-fd') });
  expect(guestnet('--scheme', 'laa', 'apply', '--help').code).toBe(0);
});

test('--version prints the package version', () => {
  expect(guestnet('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
});

test('derive prints address, role and routes, in either case', () => {
  const expected = '100.64.165.70/32 client\nroute 169.254.0.1/32 metric 43334\nroute default via 169.254.0.1 metric 43334\n';
  expect(guestnet('derive', '0A:B3:EC:00:A5:46').stdout).toBe(expected);
  expect(guestnet('derive', '0a:b3:ec:00:a5:46').stdout).toBe(expected);
  expect(JSON.parse(guestnet('derive', '--json', '0a:b3:ec:80:ff:ff').stdout)).toEqual({
    mac: '0a:b3:ec:80:ff:ff',
    role: 'provider',
    addr: { address: '169.254.0.1', prefix: 32 },
    routes: [{ dst: '100.64.255.255/32', metric: 0 }],
  });
  expect(guestnet('derive', '--scheme', 'laa', '02:00:00:00:a5:46').stdout).toMatch(/^100\.64\.165\.70\/32 client\n/);
});

test.each([
  [['derive', '52:54:00:12:34:56'], /52:54:00:12:34:56 is not an inter-guest MAC under scheme "oui"/],
  [['derive', 'zz'], /malformed MAC address "zz"/],
  [['derive'], /Not enough non-option arguments/],
  [['apply', '--bogus'], /Unknown argument: bogus/],
  [['apply', '--scheme', 'nope'], /Invalid values/],
  [['apply', '--wait', '-1'], /--wait: -1 is not 0-3600 seconds/],
  [['apply', 'bad/name'], /"bad\/name" is not a valid interface name/],
  [['derive', '--gateway', 'x', '0a:b3:ec:00:00:01'], /--gateway: "x" is not an IPv4 address/],
  [[], /name a command/],
  [['bogus', '--help'], /Unknown command: bogus/],
])('%j exits 2 with one clear line', (args, msg) => {
  const r = guestnet(...args);
  expect(r.code).toBe(2);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('guestnet: error:'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(msg);
});

test('the executable reads no package.json, locale, .env or bunfig.toml at run time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gn-cwd-'));
  try {
    for (const f of ['package.json', '.env', 'bunfig.toml']) writeFileSync(join(dir, f), '{}\n');
    const trace = join(dir, 'trace');
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=%file', '-o', trace, GUESTNET, 'apply', '--bogus'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.status).toBe(2); // yargs ran: the full CLI, not the fast path
    const opened = readFileSync(trace, 'utf8');
    expect(opened).toContain('execve');
    expect(opened).not.toMatch(/package\.json|locales|\.env|bunfig/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
