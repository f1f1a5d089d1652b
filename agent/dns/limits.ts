// The bounds that keep hostile clients from costing more than a share:
// who may ask, how fast, how much may be pending. Pure (the clock is passed in).

import { CLIENT_NET } from '../convention/boundary';

/** The bounds, documented in guestnet(8) under `dns` (the rate is an option: defaults.ts). */
export const LIMITS = {
  /** Queries pending upstream at once, all clients together (UDP and TCP). */
  pending: 4096,
  /** TCP connections open at once, all clients together, and per client. */
  connections: 64,
  connectionsPerClient: 8,
  /** Queries one TCP connection may have pending at once. */
  pendingPerConnection: 16,
  /** A TCP connection that completes no query for this long is closed (RFC 7766 §6.2.3). */
  idleMs: 10_000,
  /** Bytes of answers a TCP client may leave unread before it is dropped. */
  unreadBytes: 256 * 1024,
  /** How long a query may wait for upstreams in all before the client gets SERVFAIL (≤ 2 s). */
  answerMs: 1500,
} as const;

/** "100.64.": the /16's first two octets and their dot. */
const CLIENT_PREFIX = CLIENT_NET.address.split('.').slice(0, 2).join('.') + '.';

/** Source in the clients' range, 100.64.0.0/16. Runs for every datagram: no split, nothing allocated. */
export function isClientAddress(address: string): boolean {
  if (!address.startsWith(CLIENT_PREFIX)) return false;
  let dots = 0;
  for (let i = CLIENT_PREFIX.length; i < address.length; i++) if (address.charCodeAt(i) === 0x2e) dots++;
  return dots === 1;
}

interface Bucket {
  tokens: number;
  last: number;
}

/** Up to this many clients are tracked; past it the oldest half is forgotten (they start full again). */
const MAX_TRACKED = 65_536;

/** A token bucket per client address: `rate` a second, bursts up to one second's worth. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly rate: number) {}

  /** True when `client` may send one more query at `now` (milliseconds). */
  allow(client: string, now: number): boolean {
    if (this.rate <= 0) return true;
    let bucket = this.buckets.get(client);
    if (!bucket) {
      if (this.buckets.size >= MAX_TRACKED) this.forgetOldest();
      bucket = { tokens: this.rate, last: now };
      this.buckets.set(client, bucket);
    }
    bucket.tokens = Math.min(this.rate, bucket.tokens + ((now - bucket.last) * this.rate) / 1000);
    bucket.last = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private forgetOldest(): void {
    let n = this.buckets.size / 2;
    for (const key of this.buckets.keys()) {
      if (n-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}
