import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { UplinkDriver } from '../apply/uplink-driver';
import { causeOf } from '../apply/ip-commands';
import { run } from '../apply/run';
import { EnvironmentError } from '../errors';
import type { FoundTables } from './decode';
import type { Ruleset } from './ruleset';
import { delScript, setScript } from './script';

/**
 * The table through Debian's `nft`: one `nft -f -` transaction per change.
 * It is read back over nf_tables netlink (`reader`): the executable always
 * has netlink, and one decoder then serves both drivers.
 */
export class NftCli implements UplinkDriver {
  constructor(
    private readonly reader: Pick<UplinkDriver, 'read' | 'close'>,
    private readonly binary = 'nft',
  ) {}

  /** Also says, before anything is planned, when there is no nft to write with. */
  async read(): Promise<FoundTables> {
    if (!onPath(this.binary)) throw notFound(this.binary);
    return this.reader.read();
  }

  async set(table: Ruleset): Promise<string | undefined> {
    return this.script(setScript(table));
  }

  async del(): Promise<string | undefined> {
    return this.script(delScript());
  }

  close(): void {
    this.reader.close?.();
  }

  private async script(text: string): Promise<string | undefined> {
    try {
      const out = await run(this.binary, ['-f', '-'], text);
      return out.code === 0 ? undefined : nftCause(out.stderr);
    } catch (err) {
      if (!(err instanceof EnvironmentError) || !err.message.includes('not found')) throw err;
      return notFound(this.binary).message;
    }
  }
}

const notFound = (binary: string): EnvironmentError =>
  new EnvironmentError(`cannot run "${binary}" for the firewall table: not found (install nftables)`);

/** Whether `binary` (a path, or a name looked up in $PATH) exists, without running it. */
function onPath(binary: string): boolean {
  if (binary.includes('/')) return existsSync(binary);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, binary)));
}

/** nft's error text as one cause line. */
function nftCause(stderr: string): string {
  if (/Protocol not supported|Operation not supported/.test(stderr)) return 'the kernel has no nf_tables (load nf_tables, nft_chain_nat, nft_masq)';
  const line = stderr.split('\n').find((l) => l.startsWith('Error:')) ?? stderr;
  return causeOf(line.replace(/^Error: /, '').trim());
}
