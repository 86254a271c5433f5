import { startMemcached } from '@bcc/test-servers';
import memjs from 'memjs';

const s = await startMemcached();
const c = memjs.Client.create(s.url, { retries: 1 });
for (const size of [1000, 20000]) {
  const keys = Array.from({ length: 100 }, (_, i) => `k${size}-${i}`);
  for (const k of keys) await c.set(k, Buffer.alloc(size, 7), {});
  const variants = {
    seq: async () => {
      for (const k of keys) await c.get(k);
    },
    par: async () => {
      await Promise.all(keys.map((k) => c.get(k)));
    },
    corked: async () => {
      const socks = c.servers.map((sv) => sv._socket).filter(Boolean);
      for (const so of socks) so.cork();
      const p = Promise.all(keys.map((k) => c.get(k)));
      for (const so of socks) so.uncork();
      await p;
    },
  };
  const res = {};
  for (let round = 0; round < 25; round++)
    for (const [n, f] of Object.entries(variants)) {
      const t = process.hrtime.bigint();
      await f();
      (res[n] ??= []).push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  console.log(
    size,
    Object.entries(res)
      .map(([n, v]) => `${n}=${v.sort((a, b) => a - b)[12].toFixed(2)}`)
      .join(' '),
  );
}
c.close();
await s.stop();
