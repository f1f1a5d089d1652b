import { DEFAULT_ARGS } from '../../agent/entry/args';
import { fastCommand } from '../../agent/entry/fast-path';

test.each([
  [['apply'], [], 0],
  [['apply', 'eth0', 'eth1'], ['eth0', 'eth1'], 0],
  [['apply', '--wait', '10'], [], 10],
  [['apply', 'eth0', '--wait', '0.5'], ['eth0'], 0.5],
])('%j takes the fast path', (argv, iface, wait) => {
  expect(fastCommand(argv)).toEqual({ command: 'apply', args: { ...DEFAULT_ARGS, iface, wait, 'dry-run': false } });
});

test('--backend takes the fast path with a known backend only', () => {
  expect(fastCommand(['apply', '--backend', 'ip', 'eth0'])).toMatchObject({ args: { backend: 'ip', iface: ['eth0'] } });
  expect(fastCommand(['apply', '--backend', 'bogus'])).toBeUndefined();
  expect(fastCommand(['status', '--backend', 'netlink', 'eth0'])).toEqual({ command: 'status', args: { ...DEFAULT_ARGS, backend: 'netlink', iface: ['eth0'] } });
});

test('status, derive MAC and --version take the fast path', () => {
  expect(fastCommand(['status'])).toEqual({ command: 'status', args: { ...DEFAULT_ARGS, iface: [] } });
  expect(fastCommand(['derive', '0A:b3:ec:00:a5:46'])).toEqual({ command: 'derive', args: { ...DEFAULT_ARGS, mac: '0A:b3:ec:00:a5:46' } });
  expect(fastCommand(['--version'])).toEqual({ command: 'version' });
});

test.each([
  [[]],
  [['apply', '--dry-run']],
  [['apply', '--wait']],
  [['apply', '--wait', '-1']],
  [['apply', '--backend']],
  [['apply', '--backend=ip']],
  [['apply', '-q', 'eth0']],
  [['apply', 'bad/name']],
  [['apply', '--help']],
  [['apply', '--constructor', 'x']],
  [['status', '--wait', '1']],
  [['status', '--json']],
  [['derive']],
  [['derive', 'zz']],
  [['derive', '0a:b3:ec:00:a5:46', 'b']],
  [['derive', '--json', '0a:b3:ec:00:a5:46']],
  [['--version', '--bogus']],
  [['--help']],
])('%j goes through yargs', (argv) => expect(fastCommand(argv)).toBeUndefined());
