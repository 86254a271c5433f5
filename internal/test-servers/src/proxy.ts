import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy on loopback in front of a real server, for latency and fault tests. */
export interface TestProxy {
  readonly port: number;
  /**
   * Cuts the connection in the middle of the server's next reply: forwards the first `after`
   * bytes of it, then resets the client's connection (as a server killed mid-reply does) and
   * calls `onCut` (e.g. to kill the server behind the proxy). Resolves when the cut happened.
   */
  cutNextReply(options: { after: number; onCut?: () => void | Promise<void> }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `127.0.0.1:port`. With `delayMs`, every chunk is delayed that long in each
 * direction, which makes a slow network on one machine (Node's timers make 1 ms the shortest
 * delay); order is kept, because timers of one duration fire in the order they were set.
 */
export async function startProxy(port: number, options: { delayMs?: number } = {}): Promise<TestProxy> {
  const { delayMs = 0 } = options;
  const sockets = new Set<Socket>();
  let cut: { after: number; seen: number; onCut?: () => void | Promise<void>; done: () => void } | null =
    null;
  const later = (fn: () => void) => (delayMs > 0 ? setTimeout(fn, delayMs) : fn());
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk) => later(() => upstream.write(chunk)));
    upstream.on('data', (chunk: Buffer) => {
      const armed = cut;
      if (armed === null) {
        later(() => client.write(chunk));
        return;
      }
      const room = armed.after - armed.seen;
      if (chunk.length < room) {
        armed.seen += chunk.length;
        client.write(chunk);
        return;
      }
      cut = null;
      client.write(chunk.subarray(0, room), () => {
        client.resetAndDestroy();
        upstream.destroy();
        void Promise.resolve(armed.onCut?.()).then(armed.done, armed.done);
      });
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    cutNextReply: ({ after, onCut }) =>
      new Promise<void>((done) => {
        cut = { after, seen: 0, ...(onCut ? { onCut } : {}), done };
      }),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
