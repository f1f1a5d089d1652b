// The boundary's table over nf_tables netlink: no `nft` binary needed, so
// busybox-only images work. The socket is opened on first use, so VMs
// without provider links never open it.
import type { UplinkDriver } from '../apply/uplink-driver';
import { EnvironmentError } from '../errors';
import { NetlinkChannel } from '../netlink/channel';
import { errnoText } from '../netlink/errno';
import { concatBytes, decodeError, decodeMessages, NLMSG_ERROR } from '../netlink/message';
import { SyscallError, type NetlinkSocket } from '../netlink/socket';
import { assemble, decodeChain, decodeRule, decodeSet, dumpChains, dumpRules, dumpSets, dumpTables, tableOf, type FoundTables } from './decode';
import { delBatch, setBatch } from './encode';
import type { Ruleset } from './ruleset';

// No nfnetlink at all; nfnetlink without nf_tables answers a dump with
// EINVAL and a batch with EOPNOTSUPP (once module autoloading has failed).
const EINVAL = 22;
const EPROTONOSUPPORT = 93;
const EOPNOTSUPP = 95;
const NO_NF_TABLES = 'the kernel has no nf_tables (load nf_tables, nft_chain_nat and nft_masq)';

/** Turns "no such protocol/subsystem" into the one line that says why. */
function environment(err: unknown): unknown {
  if (!(err instanceof SyscallError)) return err;
  const missing = err.errno === EPROTONOSUPPORT || err.errno === EOPNOTSUPP || err.errno === EINVAL;
  return new EnvironmentError(`nftables: ${missing ? NO_NF_TABLES : errnoText(err.errno)}`);
}

export class NftNetlink implements UplinkDriver {
  private socket: NetlinkSocket | undefined;
  private channel: NetlinkChannel | undefined;
  private seq = Math.floor(Date.now() / 1000) >>> 0;

  constructor(private readonly open: () => Promise<NetlinkSocket>) {}

  /** `nft list table inet guestnet`, from a dump of the tables and, if it is there, of its sets, chains and rules. */
  async read(): Promise<FoundTables> {
    try {
      const channel = await this.connect();
      // Decoded as they arrive: a message's bytes are only good until the next datagram is read.
      const tables = channel.dumpDecoded(dumpTables(0), tableOf);
      const legacy = tables.includes('legacy');
      if (!tables.includes('inet')) return { table: undefined, legacy };
      const sets = channel.dumpDecoded(dumpSets(0), decodeSet);
      const chains = channel.dumpDecoded(dumpChains(0), decodeChain);
      const rules = channel.dumpDecoded(dumpRules(0), decodeRule);
      return { table: { sets, chains: assemble(chains, rules) }, legacy };
    } catch (err) {
      throw environment(err);
    }
  }

  async set(table: Ruleset): Promise<string | undefined> {
    return this.send((seq) => setBatch(table, seq));
  }

  async del(): Promise<string | undefined> {
    return this.send(delBatch);
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.channel = undefined;
  }

  /**
   * Sends one batch as one datagram. The kernel runs the whole transaction
   * inside send() and queues an error for a failing message (there are no
   * acks, as with nft), so whatever is queued right after send() is the answer.
   */
  private async send(build: (seq: number) => Uint8Array[]): Promise<string | undefined> {
    let socket: NetlinkSocket;
    try {
      await this.connect();
      socket = this.socket as NetlinkSocket;
      const messages = build(this.seq);
      this.seq = (this.seq + messages.length) >>> 0;
      socket.send(concatBytes(messages));
    } catch (err) {
      const e = environment(err);
      return e instanceof Error ? e.message : String(e);
    }
    for (let datagram = socket.recvQueued(); datagram; datagram = socket.recvQueued()) {
      const error = decodeMessages(datagram).find((m) => m.type === NLMSG_ERROR && decodeError(m).errno !== 0);
      if (error) {
        const { errno, message } = decodeError(error);
        return errnoText(errno, message);
      }
    }
    return undefined;
  }

  private async connect(): Promise<NetlinkChannel> {
    this.socket ??= await this.open();
    this.channel ??= new NetlinkChannel(this.socket);
    return this.channel;
  }
}
