// The uplink table over nf_tables netlink: no `nft` binary needed, so
// busybox-only images work. The socket is opened on first use, so VMs
// without provider links never open it.
import type { UplinkDriver } from '../apply/uplink-driver';
import type { UplinkChain, UplinkTable } from '../convention/uplink';
import { EnvironmentError } from '../errors';
import { NetlinkChannel } from '../netlink/channel';
import { errnoText } from '../netlink/errno';
import { concatBytes, decodeError, decodeMessages, NLMSG_ERROR } from '../netlink/message';
import { SyscallError, type NetlinkSocket } from '../netlink/socket';
import { decodeChain, decodeRule, dumpChains, dumpRules, dumpTables, isOurTable } from './decode';
import { delBatch, setBatch } from './encode';

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

  /** `nft -j list table ip guestnet`, from three dumps of the ip family. */
  async read(): Promise<UplinkTable | undefined> {
    try {
      const channel = await this.connect();
      // A plain loop: the first some() under bun compiles it (~0.1 M instructions).
      let ours = false;
      for (const m of channel.dump(dumpTables(0))) ours ||= isOurTable(m);
      if (!ours) return undefined;
      const chains: UplinkChain[] = channel.dump(dumpChains(0)).flatMap((m) => decodeChain(m) ?? []);
      const rules = channel.dump(dumpRules(0)).flatMap((m) => decodeRule(m) ?? []);
      return { chains: chains.map((c) => ({ ...c, rules: rules.filter((r) => r.chain === c.name).map((r) => r.exprs) })) };
    } catch (err) {
      throw environment(err);
    }
  }

  async set(table: UplinkTable): Promise<string | undefined> {
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
