// Client queries that came over UDP, forwarded over UDP. Each goes out
// under a fresh random ID from one of a pool of sockets on kernel-chosen
// random ports, renewed as they are used; an answer counts only when it
// comes from the upstream asked, to the socket asked from, with that ID
// and the same question. Load only under bun (Bun.udpSocket).

import type { udp } from 'bun';
import { LIMITS } from './limits';
import { bindEphemeral, sendTo } from './sockets-bun';
import type { UpstreamSet } from './upstream-set';
import type { Endpoint } from './upstreams';
import { answers, idOf, refusal, refuses, servfail, setId, type Query } from './wire';

type Reply = (msg: Uint8Array) => void;

interface Pending {
  readonly query: Uint8Array;
  readonly q: Query;
  readonly reply: Reply;
  readonly deadline: number;
  attempt: number;
  upstream: Endpoint;
  attemptDeadline: number;
  key: number;
}

/** Sockets in the pool, and how many queries each sends before it is replaced by one on a new port. */
const POOL = 8;
const USES = 1024;

interface PoolSocket {
  readonly serial: number;
  /** Made through libc (sends go through sendTo), received through bun. */
  readonly fd: number;
  readonly socket: udp.Socket<'uint8array'>;
  uses: number;
}

export class UdpForwarder {
  private readonly pending = new Map<number, Pending>();
  private readonly pool: PoolSocket[] = [];
  private serial = 0;
  private readonly ids = new Uint16Array(1024);
  private nextId = this.ids.length;

  constructor(
    private readonly upstreams: UpstreamSet,
    private readonly now: () => number = Date.now,
  ) {}

  async open(): Promise<void> {
    for (let i = 0; i < POOL; i++) this.pool.push(await this.openSocket());
  }

  get size(): number {
    return this.pending.size;
  }

  /** Forwards one query (the forwarder's own copy: its ID is rewritten); false when it was dropped. */
  forward(query: Uint8Array, q: Query, reply: Reply): boolean {
    if (this.pending.size >= LIMITS.pending) return false;
    const upstream = this.upstreams.at(0);
    if (!upstream) return reply(servfail(query, q)), true;
    const now = this.now();
    const p: Pending = { query, q, reply, deadline: now + LIMITS.answerMs, attempt: 0, upstream, attemptDeadline: 0, key: -1 };
    this.send(p, now);
    return true;
  }

  /** Time-outs: the next upstream, or SERVFAIL once all were asked or the bound is reached. */
  sweep(): void {
    const now = this.now();
    for (const p of this.pending.values()) {
      if (p.attemptDeadline > now) continue;
      this.upstreams.failed(p.upstream, 'no answer', now);
      this.next(p, now);
    }
  }

  close(): void {
    for (const s of this.pool) s.socket.close();
  }

  private send(p: Pending, now: number): void {
    const slot = this.pool[Math.floor(Math.random() * this.pool.length)];
    let id = this.randomId();
    while (this.pending.has(slot.serial * 65536 + id)) id = this.randomId();
    p.key = slot.serial * 65536 + id;
    const tries = Math.max(1, this.upstreams.all.length);
    p.attemptDeadline = Math.min(p.deadline, now + LIMITS.answerMs / tries);
    this.pending.set(p.key, p);
    if (++slot.uses === USES) void this.renew(slot);
    // An ICMP error queued for the socket (port unreachable: an upstream
    // that is not listening) fails the next send and is cleared by it: that
    // send is tried once more before the upstream counts as failed.
    const query = setId(p.query, id);
    if (sendTo(slot.fd, query, p.upstream) || sendTo(slot.fd, query, p.upstream)) return;
    this.upstreams.failed(p.upstream, 'cannot send (port unreachable, or the network)', now);
    this.next(p, now);
  }

  private next(p: Pending, now: number): void {
    this.pending.delete(p.key);
    const upstream = now < p.deadline ? this.upstreams.at(++p.attempt) : undefined;
    if (!upstream) return p.reply(servfail(p.query, p.q));
    p.upstream = upstream;
    this.send(p, now);
  }

  private received(serial: number, msg: Uint8Array, port: number, address: string): void {
    if (msg.length < 2) return;
    const key = serial * 65536 + idOf(msg);
    const p = this.pending.get(key);
    if (!p || p.upstream.port !== port || p.upstream.address !== address || !answers(msg, key & 0xffff, p.q.question)) return;
    if (refuses(msg)) {
      this.upstreams.failed(p.upstream, refusal(msg), this.now());
      return this.next(p, this.now());
    }
    this.pending.delete(key);
    this.upstreams.answered(p.upstream);
    p.reply(setId(msg, p.q.id));
  }

  private async openSocket(): Promise<PoolSocket> {
    const serial = this.serial++;
    const fd = bindEphemeral();
    const socket = await Bun.udpSocket({
      fd,
      binaryType: 'uint8array',
      socket: {
        data: (_s, msg, port, address) => this.received(serial, msg, port, address),
        // An ICMP error (port unreachable: an upstream that is not listening): its query times out.
        error: () => undefined,
      },
    } as udp.SocketOptions<'uint8array'> & { fd: number });
    return { serial, fd, socket, uses: 0 };
  }

  /** A new socket on a new random port takes the slot; the old one hears its last answers, then closes. */
  private async renew(slot: PoolSocket): Promise<void> {
    const fresh = await this.openSocket();
    this.pool[this.pool.indexOf(slot)] = fresh;
    setTimeout(() => slot.socket.close(), LIMITS.answerMs + 200).unref();
  }

  private randomId(): number {
    if (this.nextId === this.ids.length) {
      crypto.getRandomValues(this.ids);
      this.nextId = 0;
    }
    return this.ids[this.nextId++];
  }
}
