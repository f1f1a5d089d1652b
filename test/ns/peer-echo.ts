import { spawn } from 'node:child_process';
import type { Netns } from '../helpers/netns';
import { until } from './watch-process';

// A server that answers each TCP connection or UDP datagram with the peer
// address it saw, and a client that asks it: which source a flow arrives
// with (masquerade) and whether it arrives at all (the firewall).

export type Proto = 'tcp' | 'udp';

/**
 * socat's `-t`: how long each side waits for the other after its own input
 * ended (default 0.5 s). The server answers through `SYSTEM:`, which forks a
 * shell first; on a busy machine that took longer than 0.5 s and the client
 * gave up with nothing. A TCP client is done as soon as the server closes,
 * so its wait is free; a UDP one has no close to see and always waits it out.
 */
const AFTER_EOF = { server: '-t5', tcp: '-t5', udp: '-t2' } as const;

/**
 * The shell reads the client's line before answering: one that echoed and
 * exited before socat handed it that line made socat's write fail (EPIPE)
 * and socat exit without relaying the answer already in the pipe.
 */
const ECHO_PEER = 'SYSTEM:read line; echo $SOCAT_PEERADDR';

/** Runs `body` while a peer-echo server listens on `port` in `ns`. */
export async function withPeerEcho<T>(ns: Netns, proto: Proto, port: number, body: () => T): Promise<T> {
  const listen = proto === 'tcp' ? `TCP4-LISTEN:${port},reuseaddr,fork` : `UDP4-RECVFROM:${port},fork`;
  const server = spawn('ip', ['netns', 'exec', ns.name, 'socat', '-T5', AFTER_EOF.server, listen, ECHO_PEER], { stdio: 'ignore' });
  try {
    await until('the server listens', () => ns.sh(proto === 'tcp' ? 'ss -Htln' : 'ss -Huln').includes(`:${port} `));
    return body();
  } finally {
    server.kill();
  }
}

/** What a peer-echo server at address:port answered (its view of the client's address), or '' when nothing came back. */
export function askPeer(ns: Netns, proto: Proto, address: string, port: number): string {
  const to = proto === 'tcp' ? `TCP4:${address}:${port},connect-timeout=3` : `UDP4:${address}:${port}`;
  return ns.run('socat', ['-T3', AFTER_EOF[proto], '-', to], 'hello\n').stdout.trim();
}
