import type { UplinkDriver } from '../apply/uplink-driver';
import { causeOf } from '../apply/ip-commands';
import { run } from '../apply/run';
import { UPLINK_TABLE, type UplinkTable } from '../convention/uplink';
import { EnvironmentError } from '../errors';
import { parseNftJson } from './json';
import { delScript, setScript } from './script';

/** The uplink through Debian's `nft`: one `nft -f -` transaction per change. */
export class NftCli implements UplinkDriver {
  constructor(private readonly binary = 'nft') {}

  /** `nft -j list table ip guestnet` */
  async read(): Promise<UplinkTable | undefined> {
    const out = await this.run(['-j', 'list', 'table', 'ip', UPLINK_TABLE]);
    if (out.code === 0) return parseNftJson(out.stdout);
    if (/No such file or directory/.test(out.stderr)) return undefined;
    throw new EnvironmentError(`nftables: ${nftCause(out.stderr)}`);
  }

  async set(table: UplinkTable): Promise<string | undefined> {
    return this.script(setScript(table));
  }

  async del(): Promise<string | undefined> {
    return this.script(delScript());
  }

  private async script(text: string): Promise<string | undefined> {
    const out = await this.run(['-f', '-'], text);
    return out.code === 0 ? undefined : nftCause(out.stderr);
  }

  private async run(args: readonly string[], input?: string) {
    try {
      return await run(this.binary, args, input);
    } catch (err) {
      if (!(err instanceof EnvironmentError)) throw err;
      if (!err.message.includes('not found')) throw err;
      throw new EnvironmentError(`cannot run "${this.binary}" for the uplink table: not found (install nftables)`);
    }
  }
}

/** nft's error text as one cause line. */
function nftCause(stderr: string): string {
  if (/Protocol not supported|Operation not supported/.test(stderr)) return 'the kernel has no nf_tables (load nf_tables, nft_chain_nat, nft_masq)';
  const line = stderr.split('\n').find((l) => l.startsWith('Error:')) ?? stderr;
  return causeOf(line.replace(/^Error: /, '').trim());
}
