// Shared by the network adapters' benchmarks (packages/redis/bench, packages/memcached/bench), so
// both measure the same way and the delay proxy exists once.
import { connect, createServer, type Socket } from 'node:net';

/** Median of `rounds` timings of `fn` (which runs `ops` operations), in microseconds per operation. */
export async function perOp(fn: () => Promise<unknown>, { ops, rounds }: { ops: number; rounds: number }) {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / ops);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/**
 * Runs each of `fns` in turn, round after round (so drift and GC hit all alike), and returns
 * the median microseconds per operation of each.
 */
export async function compare(
  fns: (() => Promise<unknown>)[],
  { ops, rounds }: { ops: number; rounds: number },
) {
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of fns.entries()) samples[i]!.push(await perOp(fn, { ops, rounds: 1 }));
  }
  return samples.map((s) => s.sort((x, y) => x - y)[Math.floor(s.length / 2)]!);
}

/** Template-like code of about `bytes` bytes: half JavaScript, half opaque "V8" bytes. */
export function benchCode(seed: string | number, bytes: number): { js: string; v8: Uint8Array } {
  const line = `function f_${seed}(ctx, out) { out.push(ctx.lookup("name") + "<li>${seed}</li>"); }\n`;
  const js = `(function(){\n${line.repeat(Math.max(1, Math.ceil(bytes / 2 / line.length)))}})`;
  const v8 = new Uint8Array(Math.max(64, Math.floor(bytes / 2))).map((_, i) => (i * 2654435761) >>> 24);
  return { js, v8 };
}

/** Right-aligned number for benchmark tables. */
export const fmt = (n: number, digits = 1) => n.toFixed(digits).padStart(8);

/**
 * A loopback TCP proxy to `port` that holds every chunk for `delayMs` in each direction: a
 * slow network on one machine (Node's timers make 1 ms the shortest delay). Order is kept,
 * because timers of one duration fire in the order they were set.
 */
export async function startDelayProxy(port: number, delayMs: number) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
    upstream.on('data', (chunk) => setTimeout(() => client.write(chunk), delayMs));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
