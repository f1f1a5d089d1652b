import { writeSome } from './io/files';

/**
 * Writes all of `text` to a file descriptor synchronously. Under bun,
 * touching process.stdout/stderr builds node's stream machinery, which
 * measured ~25 ms and ~3 MiB at start-up; a plain write(2) costs nothing.
 */
export function writeFd(fd: number, text: string): void {
  let buf = new TextEncoder().encode(text);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSome(fd, buf));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return; // nobody reads any more; nothing to tell
      if (code !== 'EAGAIN') throw err; // a non-blocking pipe that is full: try again
    }
  }
}

export const writeOut = (text: string): void => writeFd(1, text);
export const writeErr = (text: string): void => writeFd(2, text);
