import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ARGS } from '../../agent/entry/args';
import { UsageError } from '../../agent/errors';
import { createLogger } from '../../agent/log';
import { watchOptions, type WatchArgs } from '../../agent/watch/handler';
import { unixAddress } from '../../agent/netlink/sockaddr';
import { checkNotifyFd, notifyFd, notifySystemd } from '../../agent/io/notify';

const bytes = (a: Uint8Array) => Array.from(a);

describe('unixAddress (sockaddr_un)', () => {
  test('a path: family 1, the path, a NUL', () => {
    expect(bytes(unixAddress('/run/n'))).toEqual([1, 0, ...Buffer.from('/run/n'), 0]);
  });
  test('an abstract name "@x": family 1, a NUL, the name, no trailing NUL', () => {
    expect(bytes(unixAddress('@sd'))).toEqual([1, 0, 0, ...Buffer.from('sd')]);
  });
  test.each(['', 'x'.repeat(108)])('%j is refused', (path) => expect(() => unixAddress(path)).toThrow(/bad socket path/));
});

describe('--notify-fd', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gn-notify-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('writes one newline and closes the fd', () => {
    const path = join(dir, 'ready');
    const fd = openSync(path, 'w');
    checkNotifyFd(fd);
    notifyFd(fd, createLogger({ format: 'human', verbosity: 0, write: () => undefined }));
    expect(readFileSync(path, 'utf8')).toBe('\n');
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
  });

  test('a closed or standard descriptor is a usage error', () => {
    const fd = openSync(join(dir, 'x'), 'w');
    closeSync(fd);
    expect(() => checkNotifyFd(fd)).toThrow(new UsageError(`--notify-fd: "${fd}" is not an open descriptor`));
    expect(() => checkNotifyFd(1)).toThrow(UsageError);
  });
});

test('notifySystemd does nothing without NOTIFY_SOCKET', async () => {
  const lines: string[] = [];
  await notifySystemd('READY=1', {}, createLogger({ format: 'human', verbosity: 1, write: (l) => lines.push(l) }));
  expect(lines).toEqual([]);
});

describe('watch options', () => {
  const args = (over: Partial<WatchArgs>): WatchArgs => ({ ...DEFAULT_ARGS, events: 'auto', 'poll-interval': 250, debounce: 2, ...over });

  test('defaults', () => {
    expect(watchOptions(args({}))).toEqual({ events: 'auto', ipBinary: 'ip', pollMs: 250, debounceMs: 2 });
  });
  test.each<[Partial<WatchArgs>, string]>([
    [{ 'poll-interval': 5 }, '--poll-interval: "5" is not an integer from 10 to 60000'],
    [{ debounce: -1 }, '--debounce: "-1" is not an integer from 0 to 1000'],
    [{ debounce: 1.5 }, '--debounce: "1.5" is not an integer from 0 to 1000'],
    [{ 'notify-fd': 2 }, '--notify-fd: "2" is not an integer from 3 to 65535'],
  ])('%j is refused', (over, message) => expect(() => watchOptions(args(over))).toThrow(new UsageError(message)));
});
