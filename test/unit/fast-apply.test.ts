import { DEFAULT_ARGS } from '../../agent/entry/args';
import { fastApplyArgs } from '../../agent/entry/fast-apply';

test.each([
  [['apply'], [], 0],
  [['apply', 'eth0', 'eth1'], ['eth0', 'eth1'], 0],
  [['apply', '--wait', '10'], [], 10],
  [['apply', 'eth0', '--wait', '0.5'], ['eth0'], 0.5],
])('%j takes the fast path', (argv, iface, wait) => {
  expect(fastApplyArgs(argv)).toEqual({ ...DEFAULT_ARGS, iface, wait, 'dry-run': false });
});

test('--backend takes the fast path with a known backend only', () => {
  expect(fastApplyArgs(['apply', '--backend', 'ip', 'eth0'])).toMatchObject({ backend: 'ip', iface: ['eth0'] });
  expect(fastApplyArgs(['apply', '--backend', 'bogus'])).toBeUndefined();
});

test.each([
  [[]],
  [['status']],
  [['apply', '--dry-run']],
  [['apply', '--wait']],
  [['apply', '--wait', '-1']],
  [['apply', '--backend']],
  [['apply', '--backend=ip']],
  [['apply', '-q', 'eth0']],
  [['apply', 'bad/name']],
  [['apply', '--help']],
])('%j goes through yargs', (argv) => expect(fastApplyArgs(argv)).toBeUndefined());
