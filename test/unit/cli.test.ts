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
  expect(guestnet('flush', '--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('--dry-run') });
  expect(guestnet('derive', '--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('derive <mac>') });
  expect(guestnet('--scheme', 'laa', 'apply', '--help').code).toBe(0);
  expect(guestnet('help')).toMatchObject({ code: 0, stderr: '', stdout: expect.stringContaining('guestnet flush [iface..]') });
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
  [['derive'], /^guestnet: error: derive: an argument is missing/],
  [['derive', 'a', 'b'], /unexpected argument "b"/],
  [['apply', '--bogus'], /: unknown option --bogus$/],
  [['--bogus'], /: unknown option --bogus$/],
  [['--bogus', '--help'], /: unknown option --bogus$/],
  [['apply', '--bogus', '--help'], /: unknown option --bogus$/],
  [['flush', '--bogus', '-x'], /: unknown options --bogus, -x$/],
  [['apply', '--scheme', 'nope'], /: --scheme: "nope" is not one of oui, laa$/],
  [['--scheme', 'nope', 'apply', '--help'], /: --scheme: "nope" is not one of oui, laa$/],
  [['apply', '--wait', '-1'], /--wait: "-1" is not a number of seconds from 0 to 3600/],
  [['apply', '--wait', 'abc'], /: --wait: "abc" is not a number$/],
  [['apply', '--prefix', 'abc'], /: --prefix: "abc" is not a number$/],
  [['watch', '--poll-interval', '1x'], /: --poll-interval: "1x" is not a number$/],
  [['watch', '--poll-interval', '5'], /: --poll-interval: "5" is not an integer from 10 to 60000$/],
  [['watch', '--notify-fd', '2'], /: --notify-fd: "2" is not an integer from 3 to 65535$/],
  [['apply', '--wait'], /: --wait: needs a value$/],
  [['apply', 'bad/name'], /"bad\/name" is not a valid interface name/],
  [['derive', '--gateway', 'x', '0a:b3:ec:00:00:01'], /--gateway: "x" is not an IPv4 address/],
  [[], /name a command \(apply, status, derive, flush, watch, dns, report, completion\)/],
  [['bogus', '--help'], /unknown command "bogus"/],
  [['aply'], /unknown command "aply" \(commands: apply,/],
  [['--version', '--bogus'], /: unknown option --bogus$/],
  [['apply', '--ip-binary'], /: --ip-binary: needs a value$/],
])('%j exits 2 with one clear line', (args, msg) => {
  const r = guestnet(...args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^guestnet: error: /);
  expect(lines[0]).toMatch(msg);
});

test('flush takes --dry-run, and an option is named once, as typed', () => {
  expect(guestnet('flush', '--dry-run', 'gn-no-such0').stderr).toBe('guestnet: gn-no-such0: error: no such interface\n');
  expect(guestnet('flush', '--dry-run', '--bogus-opt').stderr).toBe('guestnet: error: unknown option --bogus-opt\n');
});

test.each([
  [['--log-format', 'json', 'apply', 'gn-no-such0'], 2, 'gn-no-such0: no such interface'],
  [['--log-format=json', 'apply', '--bogus'], 2, 'unknown option --bogus'],
  [['apply', '--log-format', 'json', 'nosuch', '--wait', 'x'], 2, '--wait: "x" is not a number'],
  [['--log-format', 'json', 'derive', 'zz'], 2, expect.stringContaining('malformed MAC address "zz"')],
  [['--log-format', 'json', 'aply'], 2, expect.stringContaining('unknown command "aply"')],
  [['--log-format', 'json', 'apply', '--ip-binary'], 2, '--ip-binary: needs a value'],
  [['--log-format', 'json', '--backend', 'ip', '--ip-binary', '/nonexistent/ip', 'status'], 1, expect.stringContaining('cannot run "/nonexistent/ip"')],
])('--log-format json: %j logs its error as one JSON object', (args, code, msg) => {
  const r = guestnet(...args);
  expect(r.code).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0])).toEqual({ time: expect.any(String), level: 'error', msg, exit: code });
});

test('completion prints a shell script that asks guestnet for completions', () => {
  const r = guestnet('completion');
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toContain('guestnet --get-yargs-completions');
  expect(guestnet('--get-yargs-completions', 'guestnet', 'fl').stdout.split('\n')).toContain('flush');
  expect(guestnet('--get-yargs-completions', 'guestnet', 'flush', '--d').stdout.split('\n')).toContain('--dry-run');
});

/** The words of a help text; a word wrapped in its middle shows up as two new ones. */
function helpWords(args: string[], columns: number): string[] {
  const r = spawnSync(GUESTNET, [...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: String(columns) } });
  return r.stdout.split(/\s+/).filter(Boolean).sort();
}

test.each([[[]], [['apply']], [['flush']], [['watch']], [['derive']]])('%j --help wraps at word boundaries', (args) => {
  const whole = helpWords(args, 1000);
  for (const columns of [60, 72, 80, 90, 100]) expect([columns, helpWords(args, columns)]).toEqual([columns, whole]);
  const lines = spawnSync(GUESTNET, [...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '72' } }).stdout.split('\n');
  expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(72);
});

/** The files the executable opened (successful opens and stats), by strace. */
function filesOpened(args: string[], env: NodeJS.ProcessEnv, cwd: string): { code: number | null; files: string[] } {
  const trace = join(cwd, 'trace');
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=%file', '-o', trace, GUESTNET, ...args], { cwd, env, encoding: 'utf8' });
  const files = readFileSync(trace, 'utf8').split('\n')
    .filter((l) => !/ = -1 /.test(l) && !/^\d+ +execve/.test(l))
    .flatMap((l) => [...l.matchAll(/"(\/[^"]*)"/g)].map((m) => m[1]));
  return { code: r.status, files: [...new Set(files)] };
}

// What the dynamic loader and bun's runtime read on every start: libraries,
// /proc and /sys (memory and CPU limits), and /etc/localtime, read by glibc's
// tzset(), which bun calls while it starts, before any of guestnet's code.
const RUNTIME = /^(\/etc\/ld\.so\.(cache|preload)|\/(usr\/)?lib(64|\/x86_64-linux-gnu)?\/[^/]+\.so[.\d]*|\/proc\/.*|\/sys\/.*|\/dev\/.*)$/;

test.each([
  ['the full CLI', ['apply', '--bogus'], 2],
  ['the fast path', ['apply', 'gn-no-such0'], 2],
  ['derive', ['derive', '0a:b3:ec:00:00:01'], 0],
])('%s reads no package.json, locale, .env or bunfig.toml, only what the runtime needs', (_what, args, code) => {
  const dir = mkdtempSync(join(tmpdir(), 'gn-cwd-'));
  try {
    for (const f of ['package.json', '.env', 'bunfig.toml']) writeFileSync(join(dir, f), '{}\n');
    const plain = filesOpened(args, { PATH: process.env.PATH }, dir);
    expect(plain.code).toBe(code);
    const own = (f: string) => GUESTNET.startsWith(f) || f === dir;
    expect(plain.files.filter((f) => !RUNTIME.test(f) && !own(f))).toEqual(['/etc/localtime']);
    // With TZ set to a rule rather than a file, glibc reads no time zone file.
    const tz = filesOpened(args, { PATH: process.env.PATH, TZ: 'UTC0' }, dir);
    expect(tz.files.filter((f) => !RUNTIME.test(f) && !own(f))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
