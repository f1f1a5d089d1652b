// Client queries that came over TCP, forwarded over TCP (RFC 7766): one
// connection to the upstream per query, closed once it answered. The
// upstreams are tried in order within the same bound as over UDP.
// Load only under bun (Bun.connect).

import type { Socket } from 'bun';
import { append, frame, splitFrames } from './frames';
import { LIMITS } from './limits';
import type { UpstreamSet } from './upstream-set';
import type { Endpoint } from './upstreams';
import { answers, refusal, refuses, servfail, setId, type Query } from './wire';

type Outcome = { readonly answer: Uint8Array } | { readonly failure: string };

/** Asks one upstream over TCP; the outcome once it answered, failed or ran out of `ms`. */
function ask(upstream: Endpoint, query: Uint8Array, q: Query, id: number, ms: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let buffered: Uint8Array = new Uint8Array(0);
    let socket: Socket | undefined;
    let done = false;
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket?.end();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ failure: 'no answer over TCP' }), ms);
    Bun.connect({
      hostname: upstream.address,
      port: upstream.port,
      socket: {
        open: (s) => void s.write(frame(setId(query, id))),
        data: (_s, chunk) => {
          const frames = splitFrames(append(buffered, chunk));
          if (frames.kind === 'garbage') return finish({ failure: 'sent garbage over TCP' });
          buffered = frames.rest;
          const answer = frames.messages.find((m) => answers(m, id, q.question));
          if (answer) finish({ answer });
        },
        close: () => finish({ failure: 'closed the TCP connection' }),
        error: (_s, err) => finish({ failure: err.message }),
        connectError: (_s, err) => finish({ failure: `TCP: ${err.message}` }),
      },
    }).then(
      (s) => (done ? s.end() : (socket = s)),
      (err: Error) => finish({ failure: `TCP: ${err.message}` }),
    );
  });
}

/** The answer to relay to the TCP client: the first upstream's that does not refuse, else SERVFAIL. */
export async function forwardOverTcp(upstreams: UpstreamSet, query: Uint8Array, q: Query, now = Date.now): Promise<Uint8Array> {
  const deadline = now() + LIMITS.answerMs;
  const tries = Math.max(1, upstreams.all.length);
  for (let attempt = 0; ; attempt++) {
    const upstream = upstreams.at(attempt);
    const left = deadline - now();
    if (!upstream || left <= 0) return servfail(query, q);
    const id = crypto.getRandomValues(new Uint16Array(1))[0];
    const outcome = await ask(upstream, query, q, id, Math.min(left, LIMITS.answerMs / tries));
    if ('answer' in outcome && !refuses(outcome.answer)) {
      upstreams.answered(upstream);
      return setId(outcome.answer, q.id);
    }
    const what = 'answer' in outcome ? `${refusal(outcome.answer)} over TCP` : outcome.failure;
    upstreams.failed(upstream, what, now());
  }
}
