// agent/io/files.ts under node: node:fs.
import { readFileSync, writeFileSync, writeSync } from 'node:fs';

export function writeSome(fd: number, bytes: Uint8Array): number {
  return writeSync(fd, bytes);
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function writeText(path: string, text: string): void {
  writeFileSync(path, text);
}
