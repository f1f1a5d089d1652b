import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { version } from '../../package.json';
import { GUESTNET, Netns, veth } from '../helpers/netns';

// The executable runs only its own code, whatever the environment and the
// working directory hold (agent/build/inert-env.ts).

// The aarch64 build, run by qemu-user with its libraries from the arm64
// sysroot (make dist/arm64/guestnet, make images ARCH=arm64), where both are.
const ARM64 = resolve(__dirname, '../../dist/arm64/guestnet');
const SYSROOT = resolve(__dirname, '../../build/sysroot-arm64/root');
const QEMU = 'qemu-aarch64-static';
const canEmulate = existsSync(ARM64) && existsSync(SYSROOT) && spawnSync(QEMU, ['--version']).status === 0;

let dir: string;
let marker: string;

/** guestnet with `env` added to this process's environment (undefined: taken out), in `dir`. */
function guestnet(args: string[], env: Record<string, string | undefined>, cwd = dir) {
  const r = spawnSync(GUESTNET, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(GUESTNET)) throw new Error(`${GUESTNET} is missing: run make build first`);
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gn-env-'));
  marker = join(dir, 'ran');
  // What a preload, a config file or an override would run: it leaves a marker.
  writeFileSync(join(dir, 'x.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('BUN_OPTIONS does not preload a file', () => {
  expect(guestnet(['--version'], { BUN_OPTIONS: `--preload ${dir}/x.js` })).toMatchObject({ code: 0, stdout: `${version}\n` });
  expect(existsSync(marker)).toBe(false);
});

test('BUN_BE_BUN does not turn guestnet into bun', () => {
  expect(guestnet(['--version'], { BUN_BE_BUN: '1' })).toMatchObject({ code: 0, stdout: `${version}\n` });
});

test('bunfig.toml and .env in the working directory and in $HOME are not read', () => {
  const config = `preload = ["${dir}/x.js"]\n`;
  writeFileSync(join(dir, 'bunfig.toml'), config);
  writeFileSync(join(dir, '.bunfig.toml'), config);
  // Loaded, it would narrow --help to 40 columns (stdout is a pipe).
  writeFileSync(join(dir, '.env'), 'COLUMNS=40\n');
  const env = { HOME: dir, XDG_CONFIG_HOME: dir, COLUMNS: undefined };
  expect(guestnet(['--version'], env)).toMatchObject({ code: 0, stdout: `${version}\n` });
  const help = guestnet(['--help'], env);
  expect(help.code).toBe(0);
  expect(Math.max(...help.stdout.split('\n').map((l) => l.length))).toBeGreaterThan(40);
  expect(existsSync(marker)).toBe(false);
});

test('BUN_BYTECODE_ORDER_OUT does not write a file', () => {
  const out = join(dir, 'order');
  expect(guestnet(['--version'], { BUN_BYTECODE_ORDER_OUT: out })).toMatchObject({ code: 0 });
  expect(existsSync(out)).toBe(false);
});

test('BUN_INSPECT_CONNECT_TO does not hand the process to a debugger', async () => {
  const socket = join(dir, 'inspector.sock');
  let connections = 0;
  const server = createServer((c) => (connections++, c.destroy()));
  await new Promise<void>((res) => server.listen(socket, res));
  try {
    // A run that lasts a second (waiting for a missing link), for bun's debugger thread to connect in.
    const env = { ...process.env, BUN_INSPECT_CONNECT_TO: `unix://${socket}` };
    const child = spawn(GUESTNET, ['apply', '--dry-run', '--wait', '1', 'nosuch'], { env });
    await new Promise((res) => child.on('close', res));
    await new Promise((res) => setImmediate(res));
    expect(connections).toBe(0);
  } finally {
    server.close();
  }
});

test('BUN_JSC_* (JavaScriptCore options) are ignored: no JIT dump, no options dumped, no unknown option refused', () => {
  const dumps = join(dir, 'jitdump');
  mkdirSync(dumps);
  // Obeyed, the first two write a jit-PID-TID.dump into dumps, the third prints the options set.
  const options = { BUN_JSC_useJITDump: '1', BUN_JSC_jitDumpDirectory: dumps, BUN_JSC_dumpOptions: '1' };
  expect(guestnet(['--version'], options)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  expect(readdirSync(dumps)).toEqual([]);
  // bun stops at an option JavaScriptCore does not know ("invalid JSC environment variable").
  expect(guestnet(['--version'], { BUN_JSC_noSuchOption: '1' })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
});

(canEmulate ? test : test.skip)('the aarch64 build ignores BUN_JSC_* too (qemu-user)', () => {
  const dumps = join(dir, 'jitdump');
  mkdirSync(dumps);
  const env = { ...process.env, BUN_JSC_useJITDump: '1', BUN_JSC_jitDumpDirectory: dumps, BUN_JSC_dumpOptions: '1', BUN_JSC_noSuchOption: '1' };
  const r = spawnSync(QEMU, ['-L', SYSROOT, ARM64, '--version'], { cwd: dir, env, encoding: 'utf8', timeout: 20_000 });
  expect({ code: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  expect(readdirSync(dumps)).toEqual([]);
});

test('apply with BUN_JSC_* and the other inert variables set configures as without them', () => {
  const ns = new Netns('env');
  const peer = new Netns('envp');
  const dumps = join(dir, 'jitdump');
  mkdirSync(dumps);
  try {
    veth(ns, 'eth0', '0a:b3:ec:00:00:11', peer, 'eth1', '0a:b3:ec:80:00:11');
    const env = ['BUN_JSC_useJITDump=1', `BUN_JSC_jitDumpDirectory=${dumps}`, `BUN_OPTIONS=--preload ${dir}/x.js`, 'BUN_BE_BUN=1'];
    expect(ns.run('env', [...env, GUESTNET, 'apply'])).toMatchObject({ code: 0 });
    expect(ns.addrs('eth0')).toEqual(['100.64.0.17/32']);
    expect(readdirSync(dumps)).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  } finally {
    ns.delete();
    peer.delete();
  }
});
