/**
 * The Debian packages from `make deb` and `make deb ARCH=arm64`: lintian
 * finds no errors, and each holds what a Debian image needs (its
 * architecture's executable exactly as bun wrote it, the unit running
 * `guestnet watch`, the man page, copyright, changelog) and nothing else.
 * Its life cycle (install, upgrade, remove, purge) runs in a copy of the
 * Debian image's debootstrap tree (build/debian-base, from make images);
 * starting under systemd is test/vm/debian.test.ts.
 */
import { execFileSync, spawnSync } from 'child_process';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { join, resolve } from 'path';

const ROOT = resolve(__dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const debOf = (arch: string) => join(ROOT, `dist/guestnet_${VERSION}_${arch}.deb`);
const AMD64_DEB = debOf('amd64');
/** Each package's executable, as `make build ARCH=...` wrote it. */
const BINARIES = { amd64: 'dist/guestnet', arm64: 'dist/arm64/guestnet' };
const BASE = join(ROOT, 'build/debian-base');
const WANTS = 'etc/systemd/system/multi-user.target.wants/guestnet.service';
const DNS_WANTS = 'etc/systemd/system/multi-user.target.wants/guestnet-dns.service';
/** lstat, not exists: the enablement link's absolute target resolves only inside the chroot. */
const isLink = (path: string) => lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true;

const dpkgDeb = (...args: string[]) => execFileSync('dpkg-deb', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
/** One file's contents from a package's data archive. */
const memberOf = (deb: string, path: string): Buffer =>
  execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xOf - "$2"', 'sh', deb, `./${path}`], {
    maxBuffer: 1 << 28,
  });

describe.each(Object.entries(BINARIES))(`guestnet_${VERSION}_%s.deb`, (arch, binary) => {
  const DEB = debOf(arch);
  const member = (path: string) => memberOf(DEB, path);
  /** ELF e_machine (x86-64: 62, AArch64: 183), so a package never carries another architecture's build. */
  const machine = { amd64: 62, arm64: 183 }[arch];

  beforeAll(() => {
    if (!existsSync(DEB)) throw new Error(`${DEB} missing: run "make deb ARCH=${arch}" first`);
  });

  it('has no lintian errors', () => {
    const r = spawnSync('lintian', ['--fail-on', 'error', DEB], { encoding: 'utf8' });
    if (r.error) throw new Error(`lintian: ${r.error.message} (apt-get install lintian)`);
    // Warnings are printed for the reader; only errors fail the package.
    if (r.stdout) console.log(`lintian ${DEB}:\n${r.stdout}`);
    expect(r.stdout).not.toMatch(/^E: /m);
    expect(r.status).toBe(0);
  }, 300_000);

  it('holds the executable, the unit, the man page, copyright and changelog, and no udev rule', () => {
    const files = dpkgDeb('-c', DEB)
      .split('\n')
      .filter((l) => l.startsWith('-'))
      .map((l) => {
        const f = l.split(/\s+/);
        return `${f[0]} ${f[5].replace(/^\.\//, '')}`;
      });
    const expected = [
      '-rwxr-xr-x usr/bin/guestnet',
      '-rw-r--r-- lib/systemd/system/guestnet.service',
      '-rw-r--r-- lib/systemd/system/guestnet-dns.service',
      '-rw-r--r-- usr/share/doc/guestnet/copyright',
      '-rw-r--r-- usr/share/doc/guestnet/changelog.gz',
      '-rw-r--r-- usr/share/lintian/overrides/guestnet',
      '-rw-r--r-- usr/share/man/man8/guestnet.8.gz',
    ];
    expect(files.sort()).toEqual(expected.sort());
    const unit = member('lib/systemd/system/guestnet.service').toString();
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/guestnet watch$/m);
    // Ordered after nftables.service (whose start flushes the ruleset), without needing it.
    expect(unit).toMatch(/^After=nftables\.service$/m);
    expect(unit).not.toMatch(/^(Requires|Requisite|BindsTo|Wants)=.*nftables/m);
    expect(member('lib/systemd/system/guestnet-dns.service').toString()).toMatch(/^ExecStart=\/usr\/bin\/guestnet dns$/m);
  });

  it('ships the executable unstripped, byte for byte as bun wrote it', () => {
    // strip would cut off the bundled program appended to the bun runtime.
    expect(member('usr/bin/guestnet').equals(readFileSync(join(ROOT, binary)))).toBe(true);
  });

  it(`carries an executable for ${arch}`, () => {
    expect(member('usr/bin/guestnet').readUInt16LE(18)).toBe(machine);
  });

  it('declares its version and the libc it links', () => {
    expect(dpkgDeb('-f', DEB, 'Package', 'Version', 'Architecture')).toBe(
      `Package: guestnet\nVersion: ${VERSION}\nArchitecture: ${arch}\n`,
    );
    expect(dpkgDeb('-f', DEB, 'Depends')).toMatch(/^libc6 \(>= 2\.\d+\)$/m);
  });
});

describe(`guestnet_${VERSION}_amd64.deb in a Debian ${existsSync(BASE) ? readFileSync(join(BASE, 'etc/debian_version'), 'utf8').trim() : ''} chroot`, () => {
  let root: string | undefined;
  const inRoot = (...cmd: string[]) => execFileSync('chroot', [root!, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(() => {
    if (!existsSync(AMD64_DEB)) throw new Error(`${AMD64_DEB} missing: run "make deb" first`);
    if (!existsSync(join(BASE, '.stamp'))) throw new Error(`${BASE} missing: run "make images" first`);
    // A full copy: dpkg must not touch the cached tree the image is built from.
    root = mkdtempSync(join(ROOT, 'build/deb-test-'));
    execFileSync('cp', ['-a', `${BASE}/.`, root]);
    copyFileSync(AMD64_DEB, join(root, 'tmp/guestnet.deb'));
  }, 120_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('installs enabled (no systemd running: not started), and the executable runs there', () => {
    inRoot('dpkg', '-i', '/tmp/guestnet.deb');
    expect(isLink(join(root!, WANTS))).toBe(true);
    expect(isLink(join(root!, DNS_WANTS))).toBe(false); // the resolver only on a provider, enabled by hand
    // bun aborts without /proc: mount one in a private mount namespace.
    const run = 'mount -t proc proc "$1/proc" && exec chroot "$1" guestnet derive 0A:B3:EC:00:A5:46';
    const out = execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', run, 'sh', root!], { encoding: 'utf8' });
    expect(out).toContain('100.64.165.70/32 client');
  });

  it('keeps an administrator\'s "systemctl disable" across an upgrade', () => {
    inRoot('systemctl', 'disable', 'guestnet');
    expect(isLink(join(root!, WANTS))).toBe(false);
    inRoot('dpkg', '-i', '/tmp/guestnet.deb');
    expect(isLink(join(root!, WANTS))).toBe(false);
    inRoot('systemctl', 'enable', 'guestnet');
  });

  it('keeps guestnet-dns enabled across an upgrade once an administrator enabled it', () => {
    inRoot('systemctl', 'enable', 'guestnet-dns');
    inRoot('dpkg', '-i', '/tmp/guestnet.deb');
    expect(isLink(join(root!, DNS_WANTS))).toBe(true);
  });

  it('removes the executable on remove and the enablement on purge', () => {
    inRoot('dpkg', '-r', 'guestnet');
    expect(existsSync(join(root!, 'usr/bin/guestnet'))).toBe(false);
    inRoot('dpkg', '-P', 'guestnet');
    expect(isLink(join(root!, WANTS))).toBe(false);
    expect(isLink(join(root!, DNS_WANTS))).toBe(false);
    expect(inRoot('sh', '-c', 'dpkg-query -W -f="${Status}" guestnet 2>&1 || true')).not.toContain('installed');
  });
});
