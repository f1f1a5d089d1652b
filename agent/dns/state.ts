// What the resolver tells `report`: a small JSON file it
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

/** What `report` says of the resolver: its state file, if the process that wrote it still runs. */
export type DnsFacts = ({ readonly running: true } & DnsState) | { readonly running: false };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // runs, as another user
  }
}

export function readDnsFacts(dir: string = DNS_DEFAULTS['state-dir']): DnsFacts {
  let state: DnsState;
  try {
    state = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as DnsState;
  } catch {
    return { running: false }; // no resolver has run, or it stopped and removed its file
  }
  return Number.isInteger(state.pid) && alive(state.pid) ? { running: true, ...state } : { running: false };
}
