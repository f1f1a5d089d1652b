import { Coalescer } from '../../agent/watch/coalescer';

// Real timers with small delays: the coalescer's contract is about order and
// overlap, which the assertions check, not about how long anything takes.

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5_000; !check(); await tick(2)) {
    if (Date.now() > deadline) throw new Error('condition never held');
  }
}

/** A pass that records its calls and can be held open to test overlap. */
function recorder() {
  const calls: boolean[] = [];
  let active = 0;
  let maxActive = 0;
  let gate: Promise<void> = Promise.resolve();
  let open = (): void => undefined;
  return {
    calls,
    maxActive: () => maxActive,
    hold: () => (gate = new Promise<void>((r) => (open = r))),
    release: () => open(),
    pass: async (full: boolean) => {
      calls.push(full);
      active++;
      maxActive = Math.max(maxActive, active);
      await gate;
      active--;
    },
  };
}

test('pokes within the delay share one pass', async () => {
  const r = recorder();
  const c = new Coalescer(r.pass, 20, fail);
  for (let i = 0; i < 10; i++) c.poke();
  await c.request(false);
  expect(r.calls).toEqual([false]);
  await c.close();
});

test('pokes during a pass lead to exactly one more pass, never an overlapping one', async () => {
  const r = recorder();
  const c = new Coalescer(r.pass, 1, fail);
  r.hold();
  c.poke();
  await eventually(() => r.calls.length === 1);
  for (let i = 0; i < 50; i++) c.poke();
  r.release();
  r.hold();
  await eventually(() => r.calls.length === 2);
  await tick(20);
  expect(r.calls).toHaveLength(2); // 50 pokes, one pass
  r.release();
  await c.request(false);
  expect(r.maxActive()).toBe(1);
  expect(r.calls).toHaveLength(3); // the request's own pass
  await c.close();
});

test('a full request wins over plain pokes gathered with it', async () => {
  const r = recorder();
  const c = new Coalescer(r.pass, 5, fail);
  c.poke();
  await c.request(true);
  expect(r.calls).toEqual([true]);
  await c.close();
});

test('request rejects with the pass error; unawaited errors go to onError', async () => {
  const errors: unknown[] = [];
  const c = new Coalescer(async () => Promise.reject(new Error('boom')), 0, (e) => errors.push(e));
  await expect(c.request(false)).rejects.toThrow('boom');
  c.poke();
  await eventually(() => errors.length === 1);
  expect(errors).toEqual([new Error('boom')]);
  await c.close();
});

test('close waits for the pass in flight and drops pending pokes', async () => {
  const r = recorder();
  const c = new Coalescer(r.pass, 1, fail);
  r.hold();
  c.poke();
  await eventually(() => r.calls.length === 1);
  c.poke();
  let closed = false;
  const closing = c.close().then(() => (closed = true));
  await tick(10);
  expect(closed).toBe(false);
  r.release();
  await closing;
  await tick(10);
  expect(r.calls).toHaveLength(1);
  await expect(c.request(false)).rejects.toThrow('stopping');
});

function fail(err: unknown): void {
  throw err;
}

test('with no delay a pass starts on the next turn of the event loop, not after a timer', async () => {
  const r = recorder();
  const c = new Coalescer(r.pass, 0, fail);
  c.poke();
  c.poke();
  await new Promise((resolve) => setImmediate(resolve)); // queued after the coalescer's own
  expect(r.calls).toEqual([false]);
  await c.close();
});
