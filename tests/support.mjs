// Small helpers that the browser tests (e2e/) and the desktop tests (desktop/) share.
import { once } from 'node:events';
import net from 'node:net';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A loopback port that was free a moment ago. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Polls `fn` (async) until it returns a truthy value or `ms` pass (on the monotonic clock: the
 * wall clock of a VM can step forward and end a wait early); returns that value. */
export async function until(fn, ms = 10_000, what = 'condition') {
  const end = performance.now() + ms;
  let last;
  while (performance.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}
