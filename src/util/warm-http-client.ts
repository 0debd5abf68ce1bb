// Node's fetch (undici) builds its HTTP machinery on the first real HTTP exchange: the llhttp
// parser (WebAssembly, compiled on first use), the connection pool, the request body path.
// Measured here: a first POST to a warm server 28 ms, the next ones 3-6 ms; a `data:` URL
// fetch warms none of it. A vote is asked only when a node has lost its majority, i.e. at a
// failure, possibly months after the daemon started: that first request is on the takeover's
// path. So one POST, as the vote's, goes at start to a throwaway server on the loopback that
// answers 204 and closes: nothing leaves the host and no arbitrator sees it.
import net from 'node:net';

/** Resolves when the warm-up exchange ended (successfully or not: it is best effort). */
export function warmHttpClient(timeoutMs = 2_000): Promise<void> {
  return new Promise((resolve) => {
    const srv = net.createServer((c) => {
      c.on('error', () => undefined);
      // (anyone on the host may connect while it listens: no connection outlives the warm-up's bound)
      c.setTimeout(timeoutMs, () => c.destroy());
      c.once('data', () => c.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'));
    });
    const done = (): void => {
      srv.close();
      resolve();
    };
    srv.on('error', done);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return done();
      fetch(`http://127.0.0.1:${addr.port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', redirect: 'error', signal: AbortSignal.timeout(timeoutMs) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined)
        .finally(done);
    });
    srv.unref();
  });
}
