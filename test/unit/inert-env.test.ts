import { AARCH64, emptyNames, skipEngineOptions, X86_64 } from '../../agent/build/inert-env';

test('emptyNames empties a name only where it is a string of its own', () => {
  const runtime = Buffer.from('\0BUN_OPTIONS\0x\0BUN_OPTIONS\0\0say BUN_OPTIONS here\0process.env.BUN_OPTIONS\0BUN_OPTIONSX\0', 'latin1');
  const counts = emptyNames(runtime, ['BUN_OPTIONS', 'BUN_BE_BUN']);
  expect(Object.fromEntries(counts)).toEqual({ BUN_OPTIONS: 2, BUN_BE_BUN: 0 });
  expect(runtime.toString('latin1')).toBe('\0\0UN_OPTIONS\0x\0\0UN_OPTIONS\0\0say BUN_OPTIONS here\0process.env.BUN_OPTIONS\0BUN_OPTIONSX\0');
});

// bun 1.4.5's loop over the environment (JSCInitialize), as compiled for each target.
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');
// x86_64: cmp byte [r14+i], 'B','U','N','_','J','S','C','_'; jne (to the loop's next entry, 0x1b bytes before).
const X86 = '41803e4275e5 41807e015575de 41807e024e75d7 41807e035f75d0 41807e044a75c9 41807e055375c2 41807e064375bb 41807e075f75b4';
// aarch64: ldrb w10, [x9, #i]; cmp w10, #'B' ...; b.ne (the next entry, 0x20 bytes before the first compare's ldrb).
const ARM64 = [
  '2a014039 5f090171 01ffff54', '2a054039 5f550171 a1feff54', '2a094039 5f390171 41feff54', '2a0d4039 5f7d0171 e1fdff54',
  '2a114039 5f290171 81fdff54', '2a154039 5f4d0171 21fdff54', '2a194039 5f0d0171 c1fcff54', '2a1d4039 5f7d0171 61fcff54',
].join('');
const padded = (...parts: Buffer[]): Buffer => Buffer.concat([Buffer.alloc(64, 0xd5), ...parts.flatMap((p) => [p, Buffer.alloc(64, 0xd5)])]);

test('skipEngineOptions makes the x86_64 loop skip every entry: its first jne becomes a jmp to the same place', () => {
  const runtime = padded(hex(X86));
  expect(skipEngineOptions(runtime, X86_64)).toBe(64 + 4);
  expect(runtime.subarray(64, 64 + 6).toString('hex')).toBe('41803e42ebe5');
  expect(runtime.subarray(64 + 6)).toEqual(padded(hex(X86)).subarray(64 + 6));
});

test('skipEngineOptions on x86_64 also reads other registers and near branches', () => {
  // cmp byte [rbx+i], c (no REX) with jne rel32 to one target; the first jne becomes nop; jmp rel32.
  const chain = Buffer.concat([...'BUN_JSC_'].map((c, i) => {
    const cmp = i === 0 ? hex(`803b${c.charCodeAt(0).toString(16)}`) : hex(`807b0${i}${c.charCodeAt(0).toString(16)}`);
    const branch = Buffer.alloc(6);
    branch.set([0x0f, 0x85]);
    return Buffer.concat([cmp, branch]);
  }));
  let p = 0;
  for (let i = 0; i < 8; i++) {
    p += i === 0 ? 3 : 4;
    chain.writeInt32LE(-(p + 6) - 16, p + 2); // 16 bytes before the chain
    p += 6;
  }
  const runtime = padded(chain);
  const before = Buffer.from(runtime);
  expect(skipEngineOptions(runtime, X86_64)).toBe(64 + 3);
  expect(runtime.subarray(64 + 3, 64 + 9)).toEqual(Buffer.concat([hex('90e9'), before.subarray(64 + 5, 64 + 9)]));
});

test('skipEngineOptions makes the aarch64 loop skip every entry: its first b.ne becomes a b to the same place', () => {
  const runtime = padded(hex(ARM64));
  expect(skipEngineOptions(runtime, AARCH64)).toBe(64 + 8);
  expect(runtime.readUInt32LE(64 + 8).toString(16)).toBe('17fffff8'); // b .-0x20
  expect(runtime.subarray(64 + 12)).toEqual(padded(hex(ARM64)).subarray(64 + 12));
});

test('skipEngineOptions refuses a runtime with the compares found other than once', () => {
  const messages = /BUN_JSC_ compares found (0|2) times, not once/;
  expect(() => skipEngineOptions(padded(hex(X86), hex(X86)), X86_64)).toThrow(messages);
  expect(() => skipEngineOptions(padded(hex(ARM64), hex(ARM64)), AARCH64)).toThrow(messages);
  // The x86_64 compares in an aarch64 runtime, a compare for another prefix, branches to two targets.
  expect(() => skipEngineOptions(padded(hex(X86)), AARCH64)).toThrow(messages);
  expect(() => skipEngineOptions(padded(hex(X86.replace('41807e044a', '41807e044b'))), X86_64)).toThrow(messages);
  expect(() => skipEngineOptions(padded(hex(X86.replace('75c9', '75c8'))), X86_64)).toThrow(messages);
  expect(() => skipEngineOptions(padded(hex(ARM64.replace('5f290171', '5f2d0171'))), AARCH64)).toThrow(messages);
  expect(() => skipEngineOptions(padded(hex(X86)), 40)).toThrow('ELF machine 40: neither x86_64 nor aarch64');
});
