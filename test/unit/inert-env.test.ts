import { emptyNames } from '../../agent/build/inert-env';
import { engineOptionsIn } from '../../agent/entry/environment';

test('emptyNames empties a name only where it is a string of its own', () => {
  const runtime = Buffer.from('\0BUN_OPTIONS\0x\0BUN_OPTIONS\0\0say BUN_OPTIONS here\0process.env.BUN_OPTIONS\0BUN_OPTIONSX\0', 'latin1');
  const counts = emptyNames(runtime, ['BUN_OPTIONS', 'BUN_BE_BUN']);
  expect(Object.fromEntries(counts)).toEqual({ BUN_OPTIONS: 2, BUN_BE_BUN: 0 });
  expect(runtime.toString('latin1')).toBe('\0\0UN_OPTIONS\0x\0\0UN_OPTIONS\0\0say BUN_OPTIONS here\0process.env.BUN_OPTIONS\0BUN_OPTIONSX\0');
});

test('engineOptionsIn finds BUN_JSC_* and nothing else', () => {
  expect(engineOptionsIn({ BUN_JSC_useJIT: '0', JSC_useJIT: '0', BUN_OPTIONS: '', BUN_JSC_a: '1', PATH: '/bin' })).toEqual(['BUN_JSC_a', 'BUN_JSC_useJIT']);
});
