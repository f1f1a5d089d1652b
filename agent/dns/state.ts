// What the resolver tells `status` and `report`: a small JSON file it
// rewrites (atomically, by rename) when its upstreams change or one fails.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DNS_DEFAULTS } from './defaults';

const FILE = 'state.json';

export interface DnsState {
  readonly pid: number;
  /** ADDR:PORT, UDP and TCP. */
  readonly listening: string;
  readonly upstreams: readonly string[];
  /** Where the upstreams come from: the file followed, or the command line. */
  readonly source: string;
  readonly lastFailure?: { readonly upstream: string; readonly what: string; readonly at: string };
  /** The user it runs as once its sockets are bound. */
  readonly user: string;
}

export function writeState(dir: string, state: DnsState): void {
  const tmp = join(dir, `.${FILE}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(state) + '\n');
  renameSync(tmp, join(dir, FILE));
}

/** The state file's content, or undefined when there is none (no resolver has run). */
export function readState(dir: string = DNS_DEFAULTS['state-dir']): DnsState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as DnsState;
  } catch {
    return undefined;
  }
}
