// What every setup shares: the views, the page data, and serving an app on a free port.
import { fileURLToPath } from 'node:url';

export const views = fileURLToPath(new URL('../views', import.meta.url));
export const data = { title: 'Orders <&>', items: ['apples', 'pears', '<script>'] };

/** Serves an Express or Koa app (`app.listen`) on a free loopback port. */
export async function serve(app) {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
