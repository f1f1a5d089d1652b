// Little-endian integers in byte arrays, as netlink carries them (every
// target is little-endian: message.ts checks). Byte by byte rather than
// through a DataView: a DataView needs the array's `.buffer`, which makes
// JavaScriptCore give each small array an ArrayBuffer of its own, and per
// message that cost more than the rest of encoding or decoding it.
export const getU16 = (b: Uint8Array, off: number): number => b[off] | (b[off + 1] << 8);
export const getU32 = (b: Uint8Array, off: number): number =>
  (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
export const getI32 = (b: Uint8Array, off: number): number => getU32(b, off) | 0;

export function putU16(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
}

/** Also writes an int32: the low 32 bits are the same. */
export function putU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v;
  b[off + 1] = v >>> 8;
  b[off + 2] = v >>> 16;
  b[off + 3] = v >>> 24;
}
