// agent/io/files.ts under node: node:fs.
import { readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';

/** write(2) once: the bytes written. Throws EAGAIN, EPIPE, ... as node's errors. */
export function writeSome(fd: number, bytes: Uint8Array): number {
  return writeSync(fd, bytes);
}

/** The whole file as UTF-8. */
export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Creates or truncates the file and writes `text`. */
export function writeText(path: string, text: string): void {
  writeFileSync(path, text);
}

/** The names in a directory. */
export function listDir(path: string): string[] {
  return readdirSync(path);
}
